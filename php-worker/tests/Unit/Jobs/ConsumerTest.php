<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit\Jobs;

use PHPUnit\Framework\TestCase;
use Pivot\Worker\Jobs\Consumer;
use Pivot\Worker\Jobs\JobsException;
use Pivot\Worker\Jobs\ReceivedTask;
use Pivot\Worker\Jobs\Type;
use Pivot\Worker\Relay;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;

/**
 * Jobs\Consumer and Jobs\ReceivedTask over in-memory streams: task frames as the server sends them
 * (§4.1, flags 0x04) in, reply frames (§4.2) out, compared byte for byte with frames built by hand.
 */
final class ConsumerTest extends TestCase
{
    private const MEMORY_CONTEXT = '{"id":"7","job":"ping","driver":"memory","headers":null,"pipeline":"default"}';

    /** @var resource */
    private $out;

    private function consumer(string $input): Consumer
    {
        $this->out = fopen('php://memory', 'w+b');

        return new Consumer(new Worker(new Relay(Wire::input($input), $this->out)));
    }

    private function output(): string
    {
        return Wire::contents($this->out);
    }

    /** A task frame as the server sends it: raw codec flag, option [context length], context . payload. */
    private static function task(string $context, string $payload = ''): string
    {
        return Wire::frame(0x04, [strlen($context)], $context . $payload);
    }

    /** A reply frame as it must be sent: flags 0, option [0], the JSON body. */
    private static function reply(string $body): string
    {
        return Wire::frame(0, [0], $body);
    }

    public function testAMemoryTaskAndItsAck(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT, '{"n":1}') . Wire::stopControl());

        $task = $consumer->waitTask();
        self::assertInstanceOf(ReceivedTask::class, $task);
        self::assertSame('7', $task->getId());
        self::assertSame('ping', $task->getName());
        self::assertSame('{"n":1}', $task->getPayload());
        self::assertSame('default', $task->getPipeline());
        self::assertSame('memory', $task->getDriver());
        self::assertSame('unknown', $task->getQueue(), 'memory sends no queue');
        self::assertSame([], $task->getHeaders());
        self::assertFalse($task->isCompleted());
        self::assertSame('', $this->output(), 'nothing is sent before the reply');

        $task->ack();
        self::assertTrue($task->isCompleted());
        self::assertTrue($task->isSuccessful());
        self::assertFalse($task->isFails());
        self::assertSame(Type::ACK, $task->getReplyType());
        self::assertSame(bin2hex(self::reply('{"type":2,"data":[]}')), bin2hex($this->output()));
        // The documented bytes: 14 00 14 00 00 00 <crc> 00 00 00 00 00 00 {"type":2,"data":[]}
        self::assertSame('140014000000', bin2hex(substr($this->output(), 0, 6)));
        self::assertSame('0000' . '00000000', bin2hex(substr($this->output(), 10, 6)));

        self::assertNull($consumer->waitTask(), 'stop control frame ends the loop');
        self::assertSame(self::reply('{"type":2,"data":[]}'), $this->output(), 'nothing else written');
    }

    public function testAnAmqpTaskWithHeadersAndQueue(): void
    {
        $context = json_encode([
            'id' => 'c0ffee00-0000-4000-8000-000000000001',
            'job' => 'App\\Jobs\\SendMail',
            'driver' => 'amqp',
            'headers' => ['x-attempt' => ['2'], 'tags' => ['a', 'b'], 'empty' => []],
            'pipeline' => 'emails',
            'queue' => 'mail',
        ], JSON_THROW_ON_ERROR);
        $payload = "\x00\xff binary \u{00fc}";
        $consumer = $this->consumer(Wire::pidRequest() . self::task($context, $payload));

        $task = $consumer->waitTask();
        self::assertNotNull($task);
        self::assertSame('App\\Jobs\\SendMail', $task->getName());
        self::assertSame($payload, $task->getPayload());
        self::assertSame('mail', $task->getQueue());
        self::assertSame('amqp', $task->getDriver());
        self::assertSame(['x-attempt' => ['2'], 'tags' => ['a', 'b'], 'empty' => []], $task->getHeaders());
        self::assertTrue($task->hasHeader('tags'));
        self::assertFalse($task->hasHeader('empty'), 'a header without values is not there');
        self::assertFalse($task->hasHeader('X-Attempt'), 'names are case-sensitive, as in RoadRunner');
        self::assertSame(['a', 'b'], $task->getHeader('tags'));
        self::assertSame([], $task->getHeader('nope'));
        self::assertSame('a,b', $task->getHeaderLine('tags'));
        self::assertStringStartsWith("\x13\x01", $this->output(), 'the pid request was answered first');
    }

    public function testNackWithDelayAndRedelivery(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT));
        $task = $consumer->waitTask();
        self::assertNotNull($task);

        $delayed = $task->withDelay(5);
        self::assertNotSame($task, $delayed);
        self::assertSame(0, $task->getDelay(), 'withDelay() returns a copy');
        self::assertSame(5, $delayed->getDelay());
        $delayed->nack('boom "quoted" ' . "\u{00fc}" . ' / slash', true);

        self::assertSame(
            bin2hex(self::reply('{"type":3,"data":{"message":"boom \"quoted\" ' . "\u{00fc}" . ' / slash","requeue":true,"delay_seconds":5}}')),
            bin2hex($this->output())
        );
        self::assertTrue($task->isCompleted(), 'the copy and the original share the reply state');
        self::assertTrue($task->isFails());
        self::assertSame(Type::NACK, $task->getReplyType());
    }

    public function testNackDefaultsToNoRedelivery(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT));
        $consumer->waitTask()?->nack(new \RuntimeException('bad input'));

        $frame = $this->output();
        self::assertSame(self::reply(substr($frame, 16)), $frame);
        $body = json_decode(substr($frame, 16), true, 8, JSON_THROW_ON_ERROR);
        self::assertSame(3, $body['type']);
        self::assertSame(['message', 'requeue', 'delay_seconds'], array_keys($body['data']));
        self::assertStringStartsWith('RuntimeException: bad input in ', $body['data']['message'], 'a Throwable is sent as (string) $e');
        self::assertFalse($body['data']['requeue']);
        self::assertSame(0, $body['data']['delay_seconds']);
    }

    public function testRequeueCarriesTheHeadersAndTheDelay(): void
    {
        $context = '{"id":"1","job":"j","driver":"memory","headers":{"x-attempt":["1"],"keep":["me"]},"pipeline":"p"}';
        $consumer = $this->consumer(self::task($context, 'data'));
        $task = $consumer->waitTask();
        self::assertNotNull($task);

        $copy = $task->withHeader('x-attempt', '2')->withAddedHeader('keep', ['too'])->withHeader('new', ['a', 'b'])->withDelay(30);
        self::assertSame(['1'], $task->getHeader('x-attempt'), 'the original is unchanged');
        $copy->requeue('try again');

        self::assertSame(
            self::reply('{"type":4,"data":{"message":"try again","delay_seconds":30,"headers":{"x-attempt":["2"],"keep":["me","too"],"new":["a","b"]}}}'),
            $this->output()
        );
        self::assertTrue($task->isCompleted());
    }

    public function testRequeueWithoutHeadersLeavesThemOut(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT));
        $consumer->waitTask()?->requeue('later');

        self::assertSame(self::reply('{"type":4,"data":{"message":"later","delay_seconds":0}}'), $this->output());
    }

    public function testWithoutHeaderRemovesIt(): void
    {
        $context = '{"id":"1","job":"j","driver":"memory","headers":{"a":["1"],"b":["2"]},"pipeline":"p"}';
        $task = $this->consumer(self::task($context))->waitTask();
        self::assertNotNull($task);
        $task->withoutHeader('a')->requeue('x');

        self::assertSame(self::reply('{"type":4,"data":{"message":"x","delay_seconds":0,"headers":{"b":["2"]}}}'), $this->output());
    }

    public function testTheDeprecatedCompleteAndFail(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT) . self::task(self::MEMORY_CONTEXT) . self::task(self::MEMORY_CONTEXT));

        $consumer->waitTask()?->complete();
        self::assertSame(self::reply('{"type":0,"data":[]}'), $this->output());

        $task = $consumer->waitTask();
        $task?->withHeader('h', 'v')->withDelay(2)->fail('oops', true);
        self::assertSame(
            self::reply('{"type":0,"data":[]}')
            . self::reply('{"type":1,"data":{"message":"oops","requeue":true,"delay_seconds":2,"headers":{"h":["v"]}}}'),
            $this->output()
        );
        self::assertTrue($task?->isFails());

        $consumer->waitTask()?->fail('no requeue');
        self::assertStringEndsWith(
            self::reply('{"type":1,"data":{"message":"no requeue","requeue":false,"delay_seconds":0}}'),
            $this->output()
        );
    }

    public function testOnlyTheFirstReplyIsSent(): void
    {
        $consumer = $this->consumer(self::task(self::MEMORY_CONTEXT));
        $task = $consumer->waitTask();
        self::assertNotNull($task);

        $task->ack();
        $task->nack('late');
        $task->withDelay(3)->requeue('later');
        $task->fail('again');

        self::assertSame(self::reply('{"type":2,"data":[]}'), $this->output());
        self::assertSame(Type::ACK, $task->getReplyType());
    }

    public function testAnUnansweredTaskIsAckedByTheNextWaitTask(): void
    {
        $consumer = $this->consumer(
            self::task(self::MEMORY_CONTEXT, 'first')
            . self::task(str_replace('"7"', '"8"', self::MEMORY_CONTEXT), 'second')
            . Wire::stopControl()
        );

        $first = $consumer->waitTask();
        self::assertSame('first', $first?->getPayload());
        self::assertSame('', $this->output());

        $second = $consumer->waitTask();
        self::assertSame('8', $second?->getId());
        self::assertSame(self::reply('{"type":2,"data":[]}'), $this->output(), 'the first task was acked before waiting');
        self::assertTrue($first?->isSuccessful());
        $first?->nack('too late');
        self::assertSame(self::reply('{"type":2,"data":[]}'), $this->output(), 'a late reply is ignored');

        $second?->nack('no');
        self::assertNull($consumer->waitTask());
        self::assertSame(
            self::reply('{"type":2,"data":[]}') . self::reply('{"type":3,"data":{"message":"no","requeue":false,"delay_seconds":0}}'),
            $this->output(),
            'an answered task is not acked again'
        );
    }

    /**
     * @return iterable<string, array{string}>
     */
    public function invalidContexts(): iterable
    {
        yield 'not JSON' => ['{"id":'];
        yield 'a JSON list' => ['[1,2]'];
        yield 'a string' => ['"x"'];
        yield 'no id' => ['{"job":"j","driver":"memory","headers":null,"pipeline":"p"}'];
        yield 'empty id' => ['{"id":"","job":"j","pipeline":"p"}'];
        yield 'bad headers' => ['{"id":"1","job":"j","headers":"x","pipeline":"p"}'];
        yield 'empty context' => [''];
    }

    /**
     * @dataProvider invalidContexts
     */
    public function testAnUndecodableTaskIsAnsweredWithAnErrorFrame(string $context): void
    {
        $consumer = $this->consumer(self::task($context, 'body') . self::task(self::MEMORY_CONTEXT));

        try {
            $consumer->waitTask();
            self::fail('JobsException expected');
        } catch (JobsException $e) {
            self::assertStringStartsWith('Invalid task frame: ', $e->getMessage());
            self::assertSame('', $e->getMethod());
        }
        $frame = $this->output();
        self::assertSame(Wire::frame(0x40, [], $e->getMessage()), $frame, 'ERROR frame, no options: the server nacks the job');

        // The worker goes on with the next task.
        $consumer->waitTask()?->ack();
        self::assertSame($frame . self::reply('{"type":2,"data":[]}'), $this->output());
    }

    public function testHeaderValuesAreStrings(): void
    {
        $context = '{"id":"1","job":"j","driver":"memory","headers":{"n":[1,true],"s":"single","0":["zero"],"nul":null},"pipeline":"p"}';
        $task = $this->consumer(self::task($context))->waitTask();

        self::assertSame(['n' => ['1', 'true'], 's' => ['single'], '0' => ['zero']], $task?->getHeaders());
        self::assertSame(['zero'], $task?->getHeader('0'));
    }

    public function testNegativeDelayAndEmptyHeaderNameAreRejected(): void
    {
        $task = $this->consumer(self::task(self::MEMORY_CONTEXT))->waitTask();
        self::assertNotNull($task);

        try {
            $task->withDelay(-1);
            self::fail('negative delay accepted');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('-1', $e->getMessage());
        }
        $this->expectException(\InvalidArgumentException::class);
        $task->withHeader('', 'x');
    }

    public function testInvalidUtf8InAMessageDoesNotBreakTheReply(): void
    {
        $this->consumer(self::task(self::MEMORY_CONTEXT))->waitTask()?->nack("bad \xff byte");

        self::assertSame(self::reply('{"type":3,"data":{"message":"bad ' . "\u{fffd}" . ' byte","requeue":false,"delay_seconds":0}}'), $this->output());
    }

    public function testALargePayloadArrivesWhole(): void
    {
        $payload = random_bytes(3 << 20);
        $task = $this->consumer(self::task(self::MEMORY_CONTEXT, $payload))->waitTask();

        self::assertSame($payload, $task?->getPayload());
    }

    public function testEncodeReply(): void
    {
        self::assertSame('{"type":2,"data":[]}', ReceivedTask::encodeReply(Type::ACK));
        self::assertSame('{"type":3,"data":{"message":"m"}}', ReceivedTask::encodeReply(Type::NACK, ['message' => 'm']));
    }
}
