<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Pivot\Worker\Frame;
use Pivot\Worker\Payload;
use Pivot\Worker\Relay;
use Pivot\Worker\RelayException;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;
use Pivot\Worker\WorkerException;
use PHPUnit\Framework\TestCase;

final class WorkerTest extends TestCase
{
    /** @var resource */
    private $out;

    private function worker(string $input): Worker
    {
        $this->out = fopen('php://memory', 'w+b');

        return new Worker(new Relay(Wire::input($input), $this->out));
    }

    private function output(): string
    {
        return Wire::contents($this->out);
    }

    /** The pid reply, built by hand: 13 01 <len> <crc> 00 00 {"pid":N}. */
    private static function expectedPidReply(int $pid): string
    {
        $json = '{"pid":' . $pid . '}';
        $head = "\x13\x01" . pack('V', strlen($json));

        return $head . pack('V', crc32($head)) . "\x00\x00" . $json;
    }

    public function testHandshakeThenRequestThenStop(): void
    {
        $worker = $this->worker(
            Wire::pidRequest(12345)
            . Wire::request('{"k":"v"}', 'the body')
            . Wire::stopControl()
        );

        $payload = $worker->waitPayload();

        self::assertNotNull($payload);
        self::assertSame('{"k":"v"}', $payload->header);
        self::assertSame('the body', $payload->body);
        self::assertTrue($payload->eos);
        self::assertSame(bin2hex(self::expectedPidReply(getmypid())), bin2hex($this->output()));

        self::assertNull($worker->waitPayload(), 'stop control frame ends the loop');
        self::assertSame(bin2hex(self::expectedPidReply(getmypid())), bin2hex($this->output()), 'nothing else written');
    }

    public function testPidReplyMatchesTheDocumentedExample(): void
    {
        // roadrunner-protocol.md §1.5 (b): the reply for pid 4242.
        self::assertSame(
            '13010c0000009e47364300007b22706964223a343234327d',
            bin2hex(self::expectedPidReply(4242))
        );
        self::assertSame(getmypid(), $this->worker('')->getPid());
    }

    public function testOnAPipeTheRelayReadsExactlyAndTheHandshakeSaysSo(): void
    {
        // A pipe from a child process: the Relay turns PHP's 8 KiB read-ahead off, and the pid
        // reply adds "exact_reads":true, which lets pivot-server queue requests in the pipe.
        $cat = proc_open(['cat'], [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
        self::assertIsResource($cat);
        fwrite($pipes[0], Wire::pidRequest(12345) . Wire::request('ctx', 'one') . Wire::request('ctx', 'two'));
        fclose($pipes[0]);
        $out = fopen('php://memory', 'w+b');
        $relay = new Relay($pipes[1], $out);
        self::assertTrue($relay->readsExactly());
        self::assertSame(0, stream_get_meta_data($pipes[1])['unread_bytes'], 'no read-ahead buffer');

        $worker = new Worker($relay);
        self::assertSame('one', $worker->waitPayload()?->body);
        self::assertSame(0, stream_get_meta_data($pipes[1])['unread_bytes'], 'the second request is still in the pipe');
        self::assertSame('two', $worker->waitPayload()?->body);
        $json = '{"pid":' . getmypid() . ',"exact_reads":true}';
        $head = "\x13\x01" . pack('V', strlen($json));
        self::assertSame(bin2hex($head . pack('V', crc32($head)) . "\x00\x00" . $json), bin2hex(Wire::contents($out)));
        fclose($pipes[1]);
        proc_close($cat);
    }

    public function testOnAnythingButAPipeTheHandshakeIsRoadRunnersExactly(): void
    {
        $worker = $this->worker(Wire::pidRequest(12345));
        self::assertNull($worker->waitPayload());
        self::assertSame(bin2hex(self::expectedPidReply(getmypid())), bin2hex($this->output()));
    }

    public function testPidRequestIsAnsweredAtAnyTime(): void
    {
        $worker = $this->worker(
            Wire::request('a', '1') . Wire::pidRequest() . Wire::request('b', '2') . Wire::pidRequest()
        );

        self::assertSame('1', $worker->waitPayload()?->body);
        self::assertSame('2', $worker->waitPayload()?->body);
        self::assertSame(self::expectedPidReply(getmypid()), $this->output());
        self::assertNull($worker->waitPayload(), 'EOF after the second pid request');
        self::assertSame(str_repeat(self::expectedPidReply(getmypid()), 2), $this->output());
    }

    public function testEofReturnsNull(): void
    {
        self::assertNull($this->worker('')->waitPayload());
    }

    public function testRequestWithEmptyContextOrBody(): void
    {
        $worker = $this->worker(Wire::request('', 'only body') . Wire::request('only ctx') . Wire::request(''));

        $a = $worker->waitPayload();
        self::assertSame(['', 'only body'], [$a?->header, $a?->body]);
        $b = $worker->waitPayload();
        self::assertSame(['only ctx', ''], [$b?->header, $b?->body]);
        $c = $worker->waitPayload();
        self::assertSame(['', ''], [$c?->header, $c?->body]);
    }

    public function testRequestFlagsAreIgnored(): void
    {
        $worker = $this->worker(
            Wire::frame(Frame::CODEC_JSON, [2], '{}xy') . Wire::frame(Frame::CODEC_PROTO, [1], 'ab')
        );

        self::assertSame('xy', $worker->waitPayload()?->body);
        self::assertSame('b', $worker->waitPayload()?->body);
    }

    public function testStrayStreamStopAndPongAreSkipped(): void
    {
        $worker = $this->worker(
            Wire::frame(0, [], '', Frame::STOP) . Wire::frame(0, [], '', Frame::PONG) . Wire::request('h', 'b')
        );

        self::assertSame('b', $worker->waitPayload()?->body);
        self::assertSame('', $this->output());
    }

    public function testRequestWithoutOptionIsRejected(): void
    {
        $this->expectException(WorkerException::class);
        $this->expectExceptionMessage('option[0]');
        $this->worker(Wire::frame(0, [], 'no options'))->waitPayload();
    }

    public function testContextLongerThanPayloadIsRejected(): void
    {
        $this->expectException(WorkerException::class);
        $this->expectExceptionMessage('exceeds payload length');
        $this->worker(Wire::frame(0, [50], 'short'))->waitPayload();
    }

    public function testInvalidControlJsonIsRejected(): void
    {
        $this->expectException(WorkerException::class);
        $this->expectExceptionMessage('Invalid control frame');
        $this->worker(Wire::frame(Frame::CONTROL | Frame::CODEC_JSON, [], '{pid'))->waitPayload();
    }

    public function testUnknownControlCommandIsRejected(): void
    {
        $this->expectException(WorkerException::class);
        $this->expectExceptionMessage('neither "pid" nor "stop"');
        $this->worker(Wire::frame(Frame::CONTROL, [], '{"hello":1}'))->waitPayload();
    }

    public function testCorruptInputIsARelayError(): void
    {
        $this->expectException(RelayException::class);
        $this->worker("garbage that is no frame")->waitPayload();
    }

    public function testRespond(): void
    {
        $worker = $this->worker('');
        $worker->respond(new Payload('{"status":200}', 'Hello'));

        $payload = '{"status":200}Hello';
        $head = "\x14\x00" . pack('V', strlen($payload));
        self::assertSame(
            bin2hex($head . pack('V', crc32($head)) . "\x00\x00" . pack('V', 14) . $payload),
            bin2hex($this->output())
        );
        self::assertSame(Wire::frame(0, [14], $payload), $this->output());
    }

    public function testRespondWithCodecAndStreamChunk(): void
    {
        $worker = $this->worker('');
        $worker->respond(new Payload('ctx', 'chunk', false), Frame::CODEC_PROTO);
        $worker->respond(new Payload('', 'last'), Frame::CODEC_JSON);

        self::assertSame(
            Wire::frame(0x80, [3], 'ctxchunk', 0x01) . Wire::frame(0x08, [0], 'last', 0x00),
            $this->output()
        );
    }

    public function testError(): void
    {
        $worker = $this->worker('');
        $worker->error('boom');

        // roadrunner-protocol.md §1.5 (d)
        self::assertSame('134004000000881e11e30000626f6f6d', bin2hex($this->output()));
    }

    public function testStop(): void
    {
        $worker = $this->worker('');
        $worker->stop();

        self::assertSame('14000d000000f339efdb00000d0000007b2273746f70223a747275657d', bin2hex($this->output()));
    }

    public function testBinaryPayloadSurvivesRoundTrip(): void
    {
        $bytes = '';
        for ($i = 0; $i < 256; $i++) {
            $bytes .= chr($i);
        }
        $worker = $this->worker(Wire::request($bytes, strrev($bytes)));
        $p = $worker->waitPayload();

        self::assertSame($bytes, $p?->header);
        self::assertSame(strrev($bytes), $p?->body);
    }
}
