<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\EndToEnd;

use Pivot\Worker\Frame;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Tests\Support\WorkerProcess;
use PHPUnit\Framework\TestCase;

/**
 * Runs the example workers as real processes (php worker.php, no shell) and speaks the protocol
 * over their stdin/stdout, as pivot-server does.
 */
final class ExampleWorkersTest extends TestCase
{
    private static function handshake(WorkerProcess $process): void
    {
        $process->write(Wire::pidRequest(4242));
        $reply = $process->receive();

        self::assertNotNull($reply);
        self::assertSame(Frame::CONTROL, $reply->flags, 'pid reply has CONTROL only');
        self::assertSame([], $reply->options);
        self::assertSame(0, $reply->byte10);
        self::assertSame('{"pid":' . $process->pid() . ',"exact_reads":true}', $reply->payload);
    }

    /**
     * @return array{0: array<string, mixed>, 1: string} response context and body
     */
    private static function response(?Frame $frame): array
    {
        self::assertNotNull($frame);
        self::assertSame(0, $frame->flags & Frame::ERROR, 'not an error frame: ' . ($frame->payload));
        self::assertContains($frame->flags, [0x00, 0x08], 'legacy JSON response codec');
        self::assertCount(1, $frame->options);
        self::assertSame(0, $frame->byte10);
        $context = substr($frame->payload, 0, $frame->options[0]);

        return [json_decode($context, true, 16, JSON_THROW_ON_ERROR), substr($frame->payload, $frame->options[0])];
    }

    public function testHelloWorker(): void
    {
        $process = new WorkerProcess(PIVOT_REPO_ROOT . '/examples/hello/worker.php');
        self::handshake($process);

        for ($i = 0; $i < 3; $i++) {
            $process->write(Wire::request(Wire::httpContext(['method' => 'GET']), ''));
            [$context, $body] = self::response($process->receive());

            self::assertSame(['status' => 200, 'headers' => ['Content-Type' => ['text/plain']]], $context);
            self::assertSame("Hello, world!\n", $body);
        }

        // pid requests are answered between requests too
        self::handshake($process);

        $process->write(Wire::stopControl());
        $result = $process->close();
        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('', $result['stdout']);
        self::assertSame('', $result['stderr']);
    }

    public function testHelloWorkerExitsOnEof(): void
    {
        $process = new WorkerProcess(PIVOT_REPO_ROOT . '/examples/hello/worker.php');
        self::handshake($process);
        $result = $process->close();

        self::assertSame(0, $result['exitCode'], $result['stderr']);
    }

    public function testPsr7Worker(): void
    {
        $process = new WorkerProcess(PIVOT_REPO_ROOT . '/examples/psr7/worker.php');
        self::handshake($process);

        $process->write(Wire::request(Wire::httpContext(), '{"name":"x"}'));
        [$context, $body] = self::response($process->receive());

        self::assertSame(['status' => 200, 'headers' => ['Content-Type' => ['application/json']]], $context);
        $echo = json_decode($body, true, 16, JSON_THROW_ON_ERROR);
        self::assertSame('POST', $echo['method']);
        self::assertSame('http://example.test:8080/api/items?a=1&b%5B%5D=2&b%5B%5D=3', $echo['uri']);
        self::assertSame('/api/items', $echo['path']);
        self::assertSame(['a' => '1', 'b' => ['2', '3']], $echo['query']);
        self::assertSame(['application/json', 'text/plain'], $echo['headers']['Accept']);
        self::assertSame(['example.test:8080'], $echo['headers']['Host']);
        self::assertSame(['session' => 'abc', 'theme' => 'dark'], $echo['cookies']);
        self::assertSame('{"name":"x"}', $echo['body']);
        self::assertNull($echo['parsedBody']);
        self::assertSame('1.1', $echo['protocol']);

        // A parsed form
        $process->write(Wire::request(
            Wire::httpContext([
                'method' => 'PATCH',
                'parsed' => true,
                'rawQuery' => '',
                'uri' => 'http://h/f',
                'protocol' => 'HTTP/2.0',
            ]),
            '{"a":{"b":"1"}}'
        ));
        [, $body] = self::response($process->receive());
        $echo = json_decode($body, true, 16, JSON_THROW_ON_ERROR);
        self::assertSame('PATCH', $echo['method']);
        self::assertSame(['a' => ['b' => '1']], $echo['parsedBody']);
        self::assertSame([], $echo['query']);
        self::assertSame('2', $echo['protocol']);
        self::assertSame('{}', json_encode((object) $echo['query']));
        self::assertStringContainsString('"query":{}', $body, 'empty maps are JSON objects');

        // A request the worker cannot decode: an ERROR frame, then the worker keeps serving.
        $process->write(Wire::request(Wire::httpContext(['parsed' => true]), 'not json'));
        $error = $process->receive();
        self::assertNotNull($error);
        self::assertSame(Frame::ERROR, $error->flags);
        self::assertSame([], $error->options);
        self::assertStringContainsString('BadRequestException', $error->payload);

        // A large body (bigger than a pipe buffer, both ways)
        $big = str_repeat('0123456789abcdef', 128 * 1024); // 2 MiB
        $process->write(Wire::request(Wire::httpContext(['method' => 'PUT']), $big));
        [$context, $body] = self::response($process->receive());
        self::assertSame(200, $context['status']);
        self::assertSame($big, json_decode($body, true, 16, JSON_THROW_ON_ERROR)['body']);

        $process->write(Wire::stopControl());
        $result = $process->close();
        self::assertSame(0, $result['exitCode'], $result['stderr']);
        self::assertSame('', $result['stdout']);
        self::assertSame('', $result['stderr']);
    }
}
