<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Pivot\Worker\Frame;
use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\Request;
use Pivot\Worker\Payload;
use Pivot\Worker\Relay;
use Pivot\Worker\RelayException;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;
use Pivot\Worker\WorkerManager;
use PHPUnit\Framework\TestCase;

final class WorkerManagerTest extends TestCase
{
    private const STOP_FRAME = '14000d000000f339efdb00000d0000007b2273746f70223a747275657d';

    /** @var resource */
    private $out;

    /** @var list<string> */
    private array $events = [];

    /** @var list<string> */
    private array $log = [];

    /**
     * @param array<string, mixed> $options
     */
    private function manager(string $input, array $options = []): WorkerManager
    {
        $this->out = fopen('php://memory', 'w+b');
        $manager = new WorkerManager(
            new Worker(new Relay(Wire::input($input), $this->out)),
            $options + ['log' => function (string $line): void {
                $this->log[] = $line;
            }]
        );

        return $manager
            ->beforeRequest(function (Payload|Request $r): void {
                $this->events[] = 'before ' . self::name($r);
            })
            ->afterRequest(function (Payload|Request $r, ?\Throwable $e): void {
                $this->events[] = 'after ' . self::name($r) . ($e === null ? '' : ' error=' . $e->getMessage());
            })
            ->onStateReset(function (): void {
                $this->events[] = 'reset';
            })
            ->onError(function (\Throwable $e, Payload|Request|null $r): void {
                $this->events[] = 'onError ' . ($r === null ? 'null' : self::name($r)) . ' ' . $e->getMessage();
            });
    }

    private static function name(Payload|Request $r): string
    {
        return $r instanceof Request ? $r->path : $r->body;
    }

    private function output(): string
    {
        return Wire::contents($this->out);
    }

    /** A response frame as Worker::respond() sends it. */
    private static function response(string $body, string $context = ''): string
    {
        return Wire::frame(0, [strlen($context)], $context . $body);
    }

    /**
     * @return list<Frame>
     */
    private function frames(): array
    {
        $relay = new Relay(Wire::input($this->output()), fopen('php://memory', 'w+b'));
        $frames = [];
        while (($frame = $relay->receive()) !== null) {
            $frames[] = $frame;
        }

        return $frames;
    }

    public function testHooksRunInOrderAroundEachRequest(): void
    {
        $manager = $this->manager(
            Wire::pidRequest() . Wire::request('', 'a') . Wire::request('ctx', 'b') . Wire::stopControl()
        );

        $manager->run(function (Payload $p, Worker $w): string {
            $this->events[] = 'handler ' . $p->body;

            return strtoupper($p->body);
        });

        self::assertSame([
            'before a', 'handler a', 'after a', 'reset',
            'before b', 'handler b', 'after b', 'reset',
        ], $this->events);
        $frames = $this->frames();
        self::assertCount(3, $frames);
        self::assertSame(Frame::CONTROL, $frames[0]->flags, 'pid reply');
        self::assertSame(
            self::response('A') . self::response('B'),
            substr($this->output(), strlen(Frame::encode($frames[0])))
        );
        self::assertSame(2, $manager->getRequestCount());
        self::assertNull($manager->getRestartReason());
        self::assertSame([], $this->log);
    }

    public function testHandlerExceptionGivesAnErrorFrameAndTheLoopContinues(): void
    {
        $manager = $this->manager(Wire::request('', 'ok1') . Wire::request('', 'boom') . Wire::request('', 'ok2'));

        $manager->run(function (Payload $p): string {
            if ($p->body === 'boom') {
                throw new \RuntimeException('handler failed');
            }

            return 'done ' . $p->body;
        });

        $frames = $this->frames();
        self::assertCount(3, $frames);
        self::assertSame(self::response('done ok1'), Frame::encode($frames[0]));
        self::assertSame(Frame::ERROR, $frames[1]->flags);
        self::assertSame([], $frames[1]->options);
        self::assertStringStartsWith('RuntimeException: handler failed in ', $frames[1]->payload);
        self::assertSame(self::response('done ok2'), Frame::encode($frames[2]));
        self::assertSame([
            'before ok1', 'after ok1', 'reset',
            'before boom', 'onError boom handler failed', 'after boom error=handler failed', 'reset',
            'before ok2', 'after ok2', 'reset',
        ], $this->events);
        self::assertSame(3, $manager->getRequestCount());
    }

    public function testExceptionInBeforeRequestFailsTheRequest(): void
    {
        $manager = $this->manager(Wire::request('', 'x'));
        $manager->beforeRequest(static function (): void {
            throw new \DomainException('not allowed');
        });
        $called = false;

        $manager->run(static function () use (&$called): string {
            $called = true;

            return 'unreachable';
        });

        self::assertFalse($called);
        self::assertSame(Frame::ERROR, $this->frames()[0]->flags);
        self::assertSame(['before x', 'onError x not allowed', 'after x error=not allowed', 'reset'], $this->events);
    }

    public function testHandlerReturnValues(): void
    {
        $manager = $this->manager(
            Wire::request('', 'payload') . Wire::request('', 'self') . Wire::request('', 'stream')
            . Wire::request('', 'nothing') . Wire::request('', 'int') . Wire::request('', 'both')
        );

        $manager->run(static function (Payload $p, Worker $w): mixed {
            switch ($p->body) {
                case 'payload':
                    return new Payload('{"k":1}', 'body');
                case 'self':
                    $w->respond(new Payload('', 'by hand'), Frame::CODEC_JSON);

                    return null;
                case 'stream':
                    $w->respond(new Payload('', 'chunk', false));
                    $w->respond(new Payload('', 'last'));

                    return null;
                case 'nothing':
                    return null;
                case 'int':
                    return 42;
                default:
                    $w->respond(new Payload('', 'first'));

                    return 'second';
            }
        });

        self::assertSame(
            Wire::frame(0, [7], '{"k":1}body')
            . Wire::frame(Frame::CODEC_JSON, [0], 'by hand')
            . Wire::frame(0, [0], 'chunk', Frame::STREAM) . Wire::frame(0, [0], 'last')
            . Wire::frame(Frame::ERROR, [], '')
            . Wire::frame(Frame::ERROR, [], '')
            . self::response('first'),
            $this->normalizedOutput()
        );
        $frames = $this->frames();
        self::assertStringContainsString('did not answer the request', $frames[4]->payload);
        self::assertStringContainsString('must return a Payload, a string or null, got int', $frames[5]->payload);
        self::assertSame(
            ['[pivot-worker] the handler answered the request itself; its return value is ignored'],
            $this->log
        );
    }

    /** The output with the payload of every ERROR frame emptied (its text holds a stack trace). */
    private function normalizedOutput(): string
    {
        $out = '';
        foreach ($this->frames() as $frame) {
            $out .= Frame::encode($frame->hasFlag(Frame::ERROR) ? new Frame($frame->flags, $frame->options) : $frame);
        }

        return $out;
    }

    public function testMemoryLimitStopsInPlaceOfTheNextRequest(): void
    {
        $manager = $this->manager(
            Wire::request('', 'grow') . Wire::pidRequest() . Wire::request('', 'next') . Wire::request('', 'never'),
            ['memory_limit_bytes' => 1]
        );
        $handled = [];

        $manager->run(static function (Payload $p) use (&$handled): string {
            $handled[] = $p->body;

            return 'ok';
        });

        self::assertSame(['grow'], $handled, 'the next request is not handled');
        $frames = $this->frames();
        self::assertCount(3, $frames);
        self::assertSame(self::response('ok'), Frame::encode($frames[0]));
        self::assertSame(Frame::CONTROL, $frames[1]->flags, 'pid requests are still answered');
        self::assertSame(self::STOP_FRAME, bin2hex(Frame::encode($frames[2])));
        self::assertCount(1, $this->log);
        self::assertMatchesRegularExpression(
            '/^\[pivot-worker\] restart requested: memory \d+(\.\d)?MB > limit 1B$/',
            $this->log[0]
        );
        self::assertSame(
            substr($this->log[0], strlen('[pivot-worker] restart requested: ')),
            $manager->getRestartReason()
        );
        self::assertSame(['before grow', 'after grow', 'reset'], $this->events);
        self::assertSame(1, $manager->getRequestCount());
    }

    public function testMemoryLimitAsAString(): void
    {
        $manager = $this->manager(Wire::request('', 'a') . Wire::request('', 'b'), ['memory_limit_bytes' => '1k']);
        $manager->run(static fn (): string => 'ok');

        self::assertSame(self::response('ok') . hex2bin(self::STOP_FRAME), $this->output());
        self::assertMatchesRegularExpression('/memory \S+ > limit 1KB$/', $this->log[0]);
    }

    public function testNoRestartBelowTheMemoryLimit(): void
    {
        $manager = $this->manager(Wire::request('', 'a') . Wire::request('', 'b'), ['memory_limit_bytes' => '64G']);
        $manager->run(static fn (): string => 'ok');

        self::assertSame(self::response('ok') . self::response('ok'), $this->output());
        self::assertSame([], $this->log);
    }

    public function testMaxRequests(): void
    {
        $manager = $this->manager(
            Wire::request('', '1') . Wire::request('', '2') . Wire::request('', '3'),
            ['max_requests' => 2]
        );
        $manager->run(static fn (Payload $p): string => 'r' . $p->body);

        self::assertSame(self::response('r1') . self::response('r2') . hex2bin(self::STOP_FRAME), $this->output());
        self::assertSame(['[pivot-worker] restart requested: 2 requests served (max_requests 2)'], $this->log);
    }

    public function testRestartAfterAFailedStateReset(): void
    {
        $manager = $this->manager(Wire::request('', '1') . Wire::request('', '2'));
        $manager->onStateReset(static function (): void {
            throw new \RuntimeException('cannot reset');
        });
        $manager->run(static fn (): string => 'ok');

        self::assertSame(self::response('ok') . hex2bin(self::STOP_FRAME), $this->output());
        self::assertSame(['before 1', 'after 1', 'reset', 'onError 1 cannot reset'], $this->events);
        self::assertStringStartsWith(
            '[pivot-worker] restart requested: state reset failed: RuntimeException: cannot reset in ',
            $this->log[0]
        );
    }

    public function testRestartRequestedByTheApplication(): void
    {
        $manager = $this->manager(Wire::request('', '1') . Wire::request('', '2'));
        $manager->run(static function () use ($manager): string {
            $manager->requestRestart('config changed');

            return 'ok';
        });

        self::assertSame(self::response('ok') . hex2bin(self::STOP_FRAME), $this->output());
        self::assertSame(['[pivot-worker] restart requested: config changed'], $this->log);
    }

    public function testFailingAfterHookAndOnErrorHookAreContained(): void
    {
        $manager = $this->manager(Wire::request('', '1') . Wire::request('', '2'));
        $manager->afterRequest(static function (): void {
            throw new \RuntimeException('after failed');
        });
        $manager->onError(static function (): void {
            throw new \LogicException('reporter down');
        });
        $manager->run(static fn (): string => 'ok');

        self::assertSame(self::response('ok') . self::response('ok'), $this->output());
        self::assertSame([
            'before 1', 'after 1', 'onError 1 after failed', 'reset',
            'before 2', 'after 2', 'onError 2 after failed', 'reset',
        ], $this->events);
        self::assertCount(2, $this->log);
        self::assertStringStartsWith(
            '[pivot-worker] onError hook failed: LogicException: reporter down',
            $this->log[0]
        );
        self::assertNull($manager->getRestartReason());
    }

    public function testEofEndsTheLoop(): void
    {
        $manager = $this->manager('');
        $manager->run(static fn (): string => 'unreachable');

        self::assertSame('', $this->output());
        self::assertSame(0, $manager->getRequestCount());
    }

    public function testBrokenRelayIsNotSwallowed(): void
    {
        $readOnly = fopen('php://memory', 'rb');
        $manager = new WorkerManager(new Worker(new Relay(Wire::input(Wire::request('', 'x')), $readOnly)));
        $errors = 0;
        $manager->onError(static function () use (&$errors): void {
            $errors++;
        });

        try {
            $manager->run(static fn (): string => 'cannot be written');
            self::fail('no RelayException');
        } catch (RelayException $e) {
            self::assertStringContainsString('Failed to write a frame', $e->getMessage());
        }
        self::assertSame(0, $errors);
    }

    public function testHttp(): void
    {
        $ctx = static fn (string $path): string => Wire::httpContext(['uri' => 'http://h' . $path, 'rawQuery' => '']);
        $manager = $this->manager(
            Wire::request($ctx('/array'), 'in')
            . Wire::request($ctx('/self'))
            . Wire::request($ctx('/throw'))
            . Wire::request('{bad json')
            . Wire::request($ctx('/bad-return'))
            . Wire::request($ctx('/status-only'))
            . Wire::request('', '') // empty request: the server wants the worker to stop
            . Wire::request($ctx('/never'))
        );
        $http = new HttpWorker($manager->getWorker());

        $manager->runHttp($http, function (Request $r, HttpWorker $h): ?array {
            $this->events[] = 'handler ' . $r->path;
            switch ($r->path) {
                case '/array':
                    return [201, 'got ' . $r->body, ['X-A' => 'b']];
                case '/self':
                    $h->respond(202, 'by hand');

                    return null;
                case '/throw':
                    throw new \RuntimeException('http boom');
                case '/bad-return':
                    return ['200'];
                default:
                    return [204];
            }
        });

        $frames = $this->frames();
        self::assertCount(6, $frames);
        self::assertSame(self::response('got in', '{"status":201,"headers":{"X-A":["b"]}}'), Frame::encode($frames[0]));
        self::assertSame(self::response('by hand', '{"status":202,"headers":{}}'), Frame::encode($frames[1]));
        self::assertSame(Frame::ERROR, $frames[2]->flags);
        self::assertStringStartsWith('RuntimeException: http boom', $frames[2]->payload);
        self::assertSame(Frame::ERROR, $frames[3]->flags);
        self::assertStringContainsString(
            'Pivot\Worker\Http\BadRequestException: Invalid HTTP request context',
            $frames[3]->payload
        );
        self::assertSame(Frame::ERROR, $frames[4]->flags);
        self::assertStringContainsString('must return [status, body, headers] or null, got array', $frames[4]->payload);
        self::assertSame(self::response('', '{"status":204,"headers":{}}'), Frame::encode($frames[5]));
        self::assertSame([
            'before /array', 'handler /array', 'after /array', 'reset',
            'before /self', 'handler /self', 'after /self', 'reset',
            'before /throw', 'handler /throw', 'onError /throw http boom', 'after /throw error=http boom', 'reset',
            'onError null Invalid HTTP request context: Syntax error',
            'before /bad-return', 'handler /bad-return', 'onError /bad-return The HTTP handler must return '
                . '[status, body, headers] or null, got array',
            'after /bad-return error=The HTTP handler must return [status, body, headers] or null, got array', 'reset',
            'before /status-only', 'handler /status-only', 'after /status-only', 'reset',
        ], $this->events);
        self::assertSame(6, $manager->getRequestCount());
    }

    public function testHttpMemoryLimitStopsInPlaceOfTheNextRequest(): void
    {
        $ctx = Wire::httpContext();
        $manager = $this->manager(Wire::request($ctx) . Wire::request($ctx), ['memory_limit_bytes' => 1]);
        $manager->runHttp(new HttpWorker($manager->getWorker()), static fn (): array => [200, 'ok']);

        self::assertSame(
            self::response('ok', '{"status":200,"headers":{}}') . hex2bin(self::STOP_FRAME),
            $this->output()
        );
    }

    public function testHttpWorkerMustWrapTheSameWorker(): void
    {
        $manager = $this->manager('');
        $this->expectException(\InvalidArgumentException::class);
        $manager->runHttp(
            new HttpWorker(new Worker(new Relay(Wire::input(''), fopen('php://memory', 'w+b')))),
            static fn (): array => [200]
        );
    }

    /**
     * @return iterable<string, array{array<string, mixed>}>
     */
    public function invalidOptions(): iterable
    {
        yield 'unknown' => [['gc_evry' => 1]];
        yield 'negative gc' => [['gc_every' => -1]];
        yield 'string max_requests' => [['max_requests' => '10']];
        yield 'bad memory size' => [['memory_limit_bytes' => '12 parsecs']];
        yield 'negative memory' => [['memory_limit_bytes' => -5]];
        yield 'log not callable' => [['log' => 'no_such_function_xyz']];
    }

    /**
     * @dataProvider invalidOptions
     * @param array<string, mixed> $options
     */
    public function testInvalidOptions(array $options): void
    {
        $this->expectException(\InvalidArgumentException::class);
        new WorkerManager(new Worker(new Relay(Wire::input(''), fopen('php://memory', 'w+b'))), $options);
    }
}
