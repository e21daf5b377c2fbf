<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\StreamStoppedException;
use Pivot\Worker\Relay;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;
use PHPUnit\Framework\TestCase;

/**
 * Streamed responses (protocol doc §2.6, §3.6): every frame HttpWorker writes, byte for byte.
 */
final class HttpStreamTest extends TestCase
{
    private const STREAM = 0x01;
    private const STOP = 0x02;
    private const PING = 0x04;
    private const PONG = 0x08;

    /** @var resource */
    private $out;

    /**
     * @param resource|null $in   the worker's input; null: an in-memory stream holding $input
     * @param resource|null $feed the server's end of $in, where $input is written
     */
    private function http(string $input, $in = null, $feed = null): HttpWorker
    {
        $this->out = fopen('php://memory', 'w+b');
        if ($in === null) {
            $in = Wire::input($input);
        } else {
            fwrite($feed, $input);
        }
        $http = new HttpWorker(new Worker(new Relay($in, $this->out)));
        self::assertNotNull($http->waitRequest());

        return $http;
    }

    private static function context(int $status, array $headers = []): string
    {
        return HttpWorker::encodeResponseContext($status, $headers);
    }

    private static function chunk(string $context, string $body, int $byte10 = self::STREAM): string
    {
        return Wire::frame(0, [strlen($context)], $context . $body, $byte10);
    }

    public function testGeneratorChunksGoOutAsStreamFramesThenAnEmptyLastFrame(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $http->respond(200, (static function () {
            yield 'a';
            yield 'bb';
            yield 'ccc';
        })(), ['Content-Type' => 'text/plain']);

        $ctx = self::context(200, ['Content-Type' => 'text/plain']);
        self::assertSame(
            self::chunk($ctx, 'a') . self::chunk('', 'bb') . self::chunk('', 'ccc') . self::chunk('', '', 0),
            Wire::contents($this->out)
        );
    }

    public function testTheGeneratorReturnValueIsTheLastFrame(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $http->respond(201, (static function () {
            yield 'x';
            return 'tail';
        })());

        self::assertSame(self::chunk(self::context(201), 'x') . self::chunk('', 'tail', 0), Wire::contents($this->out));
    }

    public function testAnEmptyGeneratorSendsOneCompleteFrame(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $http->respond(204, (static function () {
            yield from [];
        })());

        self::assertSame(self::chunk(self::context(204), '', 0), Wire::contents($this->out));
    }

    public function testEveryFifthFrameCarriesPingAndTheWorkerWaitsForThePong(): void
    {
        // The PONG is already in the input; the worker must consume it (and only it) for the PING.
        $http = $this->http(Wire::request(Wire::httpContext()) . Wire::frame(0, [], '', self::PONG));
        $http->respond(200, (static function () {
            for ($i = 1; $i <= 7; ++$i) {
                yield "c$i";
            }
        })());

        $expected = self::chunk(self::context(200), 'c1');
        for ($i = 2; $i <= 7; ++$i) {
            $expected .= self::chunk('', "c$i", $i === 6 ? self::STREAM | self::PING : self::STREAM);
        }
        $expected .= self::chunk('', '', 0);
        self::assertSame($expected, Wire::contents($this->out));
    }

    public function testStopThrowsIntoTheGeneratorRunsFinallyAndSendsAnEmptyLastFrame(): void
    {
        [$workerSide, $serverSide] = stream_socket_pair(\STREAM_PF_UNIX, \STREAM_SOCK_STREAM, \STREAM_IPPROTO_IP);
        $http = $this->http(Wire::request(Wire::httpContext()), $workerSide, $serverSide);
        $log = [];
        $http->respond(200, (static function () use ($serverSide, &$log) {
            try {
                yield 'one';
                yield 'two';
                // The client went away while the third chunk was produced: the server sends STOP.
                fwrite($serverSide, Wire::frame(0, [], '', self::STOP));
                yield 'three';
                $log[] = 'not reached';
            } catch (StreamStoppedException) {
                $log[] = 'stopped';
            } finally {
                $log[] = 'finally';
            }
        })());

        self::assertSame(['stopped', 'finally'], $log);
        self::assertSame(
            self::chunk(self::context(200), 'one') . self::chunk('', 'two') . self::chunk('', '', 0),
            Wire::contents($this->out)
        );
    }

    public function testAGeneratorThatDoesNotCatchTheStopStillEndsTheStream(): void
    {
        [$workerSide, $serverSide] = stream_socket_pair(\STREAM_PF_UNIX, \STREAM_SOCK_STREAM, \STREAM_IPPROTO_IP);
        $http = $this->http(Wire::request(Wire::httpContext()), $workerSide, $serverSide);
        $finally = false;
        $http->respond(200, (static function () use ($serverSide, &$finally) {
            try {
                yield 'one';
                fwrite($serverSide, Wire::frame(0, [], '', self::STOP));
                yield 'never sent';
            } finally {
                $finally = true;
            }
        })());

        self::assertTrue($finally);
        self::assertSame(self::chunk(self::context(200), 'one') . self::chunk('', '', 0), Wire::contents($this->out));
    }

    public function testTheFirstChunkGoesOutBeforeTheInputIsRead(): void
    {
        // pivot-server may have queued the next request in our pipe. Until the server has seen the
        // first stream frame (and taken that request back), the worker must not read it.
        $request = Wire::request(Wire::httpContext());
        $in = Wire::input($request . Wire::request(Wire::httpContext(), 'queued'));
        $this->out = fopen('php://memory', 'w+b');
        $http = new HttpWorker(new Worker(new Relay($in, $this->out)));
        self::assertNotNull($http->waitRequest());
        $positions = [];
        $http->respond(200, (static function () use ($in, &$positions) {
            yield 'one';
            $positions[] = ftell($in); // resumed after 'one' went out
            yield 'two';
        })());

        self::assertSame([strlen($request)], $positions);
        self::assertSame(
            self::chunk(self::context(200), 'one') . self::chunk('', 'two') . self::chunk('', '', 0),
            Wire::contents($this->out)
        );
        self::assertSame('queued', $http->waitRequest()?->body); // read during the stream, not lost
    }

    public function testAnExceptionFromTheGeneratorMidStreamEndsTheStream(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $http->respond(200, (static function () {
            yield 'partial';
            throw new \RuntimeException('generator broke');
        })());

        self::assertSame(self::chunk(self::context(200), 'partial') . self::chunk('', '', 0), Wire::contents($this->out));
    }

    public function testEarlyHintsThenTheFinalResponse(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $http->respond(103, '', ['Link' => '</s.css>; rel=preload; as=style'], false);
        $http->respond(200, 'body', ['Content-Type' => 'text/plain']);

        self::assertSame(
            self::chunk(self::context(103, ['Link' => '</s.css>; rel=preload; as=style']), '')
            . self::chunk(self::context(200, ['Content-Type' => 'text/plain']), 'body', 0),
            Wire::contents($this->out)
        );
    }

    public function testAnInformationalStatusCannotHaveABody(): void
    {
        $http = $this->http(Wire::request(Wire::httpContext()));
        $this->expectException(\InvalidArgumentException::class);
        $http->respond(103, 'body', [], false);
    }

    public function testTheNextRequestAfterAStreamIsReadNormally(): void
    {
        // A stray PONG after the stream (e.g. answering a PING on the last chunk) is skipped.
        $http = $this->http(
            Wire::request(Wire::httpContext()) . Wire::frame(0, [], '', self::PONG)
            . Wire::request(Wire::httpContext(['method' => 'GET']))
        );
        $http->respond(200, (static fn () => yield 'x')());
        $next = $http->waitRequest();

        self::assertNotNull($next);
        self::assertSame('GET', $next->method);
    }
}
