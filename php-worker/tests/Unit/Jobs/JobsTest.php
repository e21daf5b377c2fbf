<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit\Jobs;

use PHPUnit\Framework\TestCase;
use Pivot\Worker\Jobs\Jobs;
use Pivot\Worker\Jobs\JobsException;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\RpcException;
use Pivot\Worker\Rpc\ServiceException;
use Pivot\Worker\Tests\Support\FakeRpcServer;

/**
 * Jobs\Jobs against tests/Fixtures/fake_rpc_server.php, whose jobs.* methods check the proto3 JSON
 * shape of every request (unknown fields are errors, as for the real server) and answer like
 * protobuf's MessageToJsonString; jobs.FakeReset restores its pipelines before each test. The real
 * server is covered by tests/EndToEnd/JobsServerTest.php.
 */
final class JobsTest extends TestCase
{
    private const UUID4 = '~^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$~';

    private static ?FakeRpcServer $server = null;

    private Client $client;

    private Jobs $jobs;

    public static function setUpBeforeClass(): void
    {
        self::$server = new FakeRpcServer();
    }

    public static function tearDownAfterClass(): void
    {
        $stderr = self::$server?->stop();
        self::$server = null;
        self::assertSame('', $stderr, 'the fake server saw only valid requests');
    }

    protected function setUp(): void
    {
        $this->client = new Client((string) self::$server?->address);
        $this->client->call('jobs.FakeReset', new \stdClass());
        $this->jobs = new Jobs($this->client);
    }

    /**
     * The request the fake server received before this call: [flags, method, argument bytes].
     *
     * @return array{0: int, 1: string, 2: string}
     */
    private function lastRequest(): array
    {
        $frame = (string) hex2bin((string) $this->client->call('test.LastRequest', null));
        $options = unpack('V2', substr($frame, 12, 8));
        $payload = substr($frame, 20);

        return [ord($frame[1]), substr($payload, 0, $options[2]), substr($payload, $options[2])];
    }

    public function testPushSendsTheProto3JsonOfPushRequest(): void
    {
        $id = $this->jobs->push('default', 'App\\Jobs\\Ping', "{\"n\":1}\x00\xff");

        self::assertMatchesRegularExpression(self::UUID4, $id);
        [$flags, $method, $argument] = $this->lastRequest();
        self::assertSame(0x08, $flags, 'JSON codec');
        self::assertSame('jobs.Push', $method);
        self::assertSame(
            '{"job":{"job":"App\\\\Jobs\\\\Ping","id":"' . $id . '","payload":"' . base64_encode("{\"n\":1}\x00\xff")
            . '","options":{"priority":0,"pipeline":"default","delay":0,"auto_ack":false}}}',
            $argument
        );
    }

    public function testPushWithOptionsAndHeaders(): void
    {
        $id = $this->jobs->push('emails', 'mail', 'p', [
            'priority' => 5,
            'delay' => 60,
            'auto_ack' => true,
            'headers' => ['tenant' => 'acme', 'tags' => ['a', 'b'], 'n' => 3, 7 => true],
        ]);

        [, , $argument] = $this->lastRequest();
        self::assertSame(
            '{"job":{"job":"mail","id":"' . $id . '","payload":"cA==","headers":{"tenant":{"value":["acme"]},'
            . '"tags":{"value":["a","b"]},"n":{"value":["3"]},"7":{"value":["true"]}},'
            . '"options":{"priority":5,"pipeline":"emails","delay":60,"auto_ack":true}}}',
            $argument
        );
        self::assertSame(1, $this->jobs->stat()['emails']['active']);
    }

    public function testIdsAreRandomVersion4Uuids(): void
    {
        $ids = [];
        for ($i = 0; $i < 200; $i++) {
            $ids[] = Jobs::uuid();
        }
        self::assertCount(200, array_unique($ids));
        foreach ($ids as $id) {
            self::assertMatchesRegularExpression(self::UUID4, $id);
        }
    }

    public function testPushBatch(): void
    {
        $ids = $this->jobs->pushBatch('default', [
            ['name' => 'a', 'payload' => '1'],
            ['name' => 'b', 'priority' => 9, 'headers' => ['h' => 'x']],
        ], ['delay' => 3]);

        self::assertCount(2, $ids);
        self::assertNotSame($ids[0], $ids[1]);
        [, $method, $argument] = $this->lastRequest();
        self::assertSame('jobs.PushBatch', $method);
        self::assertSame(
            '{"jobs":[{"job":"a","id":"' . $ids[0] . '","payload":"MQ==","options":{"priority":0,"pipeline":"default","delay":3,"auto_ack":false}},'
            . '{"job":"b","id":"' . $ids[1] . '","payload":"","headers":{"h":{"value":["x"]}},"options":{"priority":9,"pipeline":"default","delay":3,"auto_ack":false}}]}',
            $argument
        );
        self::assertSame(2, $this->jobs->stat()['default']['active']);
        self::assertSame([], $this->jobs->pushBatch('default', []), 'an empty batch sends nothing');
    }

    public function testServerErrorsBecomeJobsExceptionsWithTheServerText(): void
    {
        try {
            $this->jobs->push('nope', 'x');
            self::fail('JobsException expected');
        } catch (JobsException $e) {
            self::assertSame('jobs_plugin_push: no such pipeline, requested: nope', $e->getMessage());
            self::assertSame('jobs.Push', $e->getMethod());
            self::assertInstanceOf(ServiceException::class, $e->getPrevious());
        }

        try {
            $this->jobs->pause('default', 'missing');
            self::fail('JobsException expected');
        } catch (JobsException $e) {
            self::assertSame('no such pipeline, requested: missing', $e->getMessage());
            self::assertSame('jobs.Pause', $e->getMethod());
        }

        $this->jobs->declare(['name' => 'dyn', 'driver' => 'memory']);
        try {
            $this->jobs->declare(['name' => 'dyn', 'driver' => 'memory']);
            self::fail('JobsException expected');
        } catch (JobsException $e) {
            self::assertStringContainsString('pipeline already exists', $e->getMessage());
            self::assertSame('jobs.Declare', $e->getMethod());
        }

        // The connection is still usable after an error reply.
        self::assertMatchesRegularExpression(self::UUID4, $this->jobs->push('default', 'ok'));
    }

    public function testPauseResumeListStat(): void
    {
        self::assertSame(['default', 'emails'], $this->jobs->list());
        self::assertSame('{}', $this->lastRequest()[2], 'jobs.List sends an empty message');

        $this->jobs->pause('default', 'emails');
        self::assertSame(['jobs.Pause', '{"pipelines":["default","emails"]}'], array_slice($this->lastRequest(), 1));
        $stat = $this->jobs->stat();
        self::assertSame(['jobs.Stat', '{}'], array_slice($this->lastRequest(), 1));
        self::assertFalse($stat['default']['ready']);
        self::assertFalse($stat['emails']['ready']);

        $this->jobs->resume('emails');
        self::assertSame(['jobs.Resume', '{"pipelines":["emails"]}'], array_slice($this->lastRequest(), 1));
        $this->jobs->push('default', 'x');
        $this->jobs->push('default', 'y');

        self::assertSame([
            'default' => [
                'pipeline' => 'default', 'driver' => 'memory', 'queue' => '', 'active' => 2, 'delayed' => 0,
                'reserved' => 0, 'ready' => false, 'priority' => 10,
            ],
            'emails' => [
                'pipeline' => 'emails', 'driver' => 'amqp', 'queue' => 'mail', 'active' => 0, 'delayed' => 0,
                'reserved' => 0, 'ready' => true, 'priority' => 3,
            ],
        ], $this->jobs->stat(), 'int64 strings become ints, missing fields their defaults');
    }

    public function testDeclareStringifiesEveryValueAndDestroy(): void
    {
        $this->jobs->declare([
            'name' => 'reports',
            'driver' => 'amqp',
            'priority' => 4,
            'durable' => true,
            'exclusive' => false,
            'ratio' => 0.5,
            'args' => ['x-max-length' => 10],
            'none' => [],
        ]);
        [, $method, $argument] = $this->lastRequest();
        self::assertSame('jobs.Declare', $method);
        self::assertSame(
            '{"pipeline":{"name":"reports","driver":"amqp","priority":"4","durable":"true","exclusive":"false",'
            . '"ratio":"0.5","args":"{\"x-max-length\":10}","none":"{}"}}',
            $argument
        );
        self::assertSame(['default', 'emails', 'reports'], $this->jobs->list());

        self::assertSame(['reports', 'emails'], $this->jobs->destroy('reports', 'emails'));
        self::assertSame(['jobs.Destroy', '{"pipelines":["reports","emails"]}'], array_slice($this->lastRequest(), 1));
        self::assertSame(['default'], $this->jobs->list());
        self::assertSame(['default'], array_keys($this->jobs->stat()));
    }

    /**
     * @return iterable<string, array{array<string, mixed>, string}>
     */
    public function badOptions(): iterable
    {
        yield 'unknown key' => [['priorty' => 1], 'Unknown job option "priorty"; allowed: priority, delay, headers, auto_ack'];
        yield 'negative delay' => [['delay' => -1], 'Option "delay" must be an int >= 0'];
        yield 'string priority' => [['priority' => '5'], 'Option "priority" must be an int >= 0'];
        yield 'auto_ack not bool' => [['auto_ack' => 1], 'Option "auto_ack" must be a bool'];
        yield 'headers not array' => [['headers' => 'x'], 'Option "headers" must be an array'];
        yield 'header value object' => [['headers' => ['h' => [new \stdClass()]]], 'Header "h": values must be strings'];
    }

    /**
     * @dataProvider badOptions
     *
     * @param array<string, mixed> $options
     */
    public function testBadOptionsAreRejectedBeforeSending(array $options, string $message): void
    {
        try {
            $this->jobs->push('default', 'x', '', $options); // @phpstan-ignore-line
            self::fail('InvalidArgumentException expected');
        } catch (\InvalidArgumentException $e) {
            self::assertStringStartsWith($message, $e->getMessage());
        }
        self::assertSame(0, $this->jobs->stat()['default']['active'], 'nothing was pushed');
    }

    public function testBadArguments(): void
    {
        $cases = [
            fn () => $this->jobs->push('', 'x'),
            fn () => $this->jobs->push('default', ''),
            fn () => $this->jobs->pushBatch('default', [['payload' => 'no name']]),
            fn () => $this->jobs->pushBatch('default', [['name' => 'x', 'payload' => 5]]),
            fn () => $this->jobs->pushBatch('default', [['name' => 'x', 'bogus' => 1]]),
            fn () => $this->jobs->pause(''),
            fn () => $this->jobs->declare(['driver' => 'memory']),
            fn () => $this->jobs->declare(['name' => 'x']),
            fn () => $this->jobs->declare(['name' => 'x', 'driver' => 'memory', 'bad' => new \stdClass()]),
        ];
        foreach ($cases as $i => $case) {
            try {
                $case();
                self::fail("case $i: InvalidArgumentException expected");
            } catch (\InvalidArgumentException) {
            }
        }
        self::assertSame(['default', 'emails'], $this->jobs->list());
    }

    public function testAnUnreachableServerIsAnRpcException(): void
    {
        $server = new FakeRpcServer();
        $address = $server->address;
        $server->stop();
        $jobs = new Jobs(new Client($address, 1.0));

        $this->expectException(RpcException::class);
        $this->expectExceptionMessage("Cannot connect to the RPC server at $address");
        $jobs->push('default', 'x');
    }
}
