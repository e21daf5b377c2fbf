<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit\KV;

use PHPUnit\Framework\TestCase;
use Pivot\Worker\KV\KvException;
use Pivot\Worker\KV\Storage;
use Pivot\Worker\KV\StorageException;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\RpcException;
use Pivot\Worker\Tests\Support\FakeRpcServer;

/**
 * KV\Storage against tests/Fixtures/fake_rpc_server.php, whose kv.* methods keep one in-memory
 * storage ("local") and answer with RoadRunner's JSON replies and error texts. The real server
 * is covered by tests/integration/kv_test.cpp.
 */
final class StorageTest extends TestCase
{
    private const RFC3339_MICRO = '~^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$~';

    private static ?FakeRpcServer $server = null;

    private Client $client;

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
        $this->storage()->clear();
    }

    private function storage(string $name = 'local'): Storage
    {
        return new Storage($this->client, $name);
    }

    /**
     * The request the fake server received before this call: [method, decoded JSON argument].
     *
     * @return array{0: string, 1: array<string, mixed>}
     */
    private function lastRequest(): array
    {
        $frame = (string) hex2bin((string) $this->client->call('test.LastRequest', null));
        $options = unpack('V2', substr($frame, 12, 8));
        $payload = substr($frame, 20);
        $method = substr($payload, 0, $options[2]);

        return [$method, json_decode(substr($payload, $options[2]), true, 512, \JSON_THROW_ON_ERROR)];
    }

    /**
     * @return iterable<string, array{mixed}>
     */
    public function values(): iterable
    {
        yield 'string' => ['hello'];
        yield 'binary' => ["\x00\xff\xfe bytes \u{00fc}"];
        yield 'int' => [42];
        yield 'float' => [1.5];
        yield 'false' => [false];
        yield 'null' => [null];
        yield 'array' => [['a' => 1, 'list' => [1, 2, [true]]]];
        yield 'object' => [new \ArrayObject(['x' => 1])];
    }

    /**
     * @dataProvider values
     */
    public function testValuesRoundTripThroughSerialize(mixed $value): void
    {
        $kv = $this->storage();
        self::assertTrue($kv->set('k', $value));
        self::assertEquals($value, $kv->get('k', 'default'));
        self::assertTrue($kv->has('k'));
    }

    public function testTheRequestIsTheJsonShapeOfKvV1Request(): void
    {
        $kv = $this->storage();
        $kv->set('a', 'v');
        [$method, $request] = $this->lastRequest();

        self::assertSame('kv.Set', $method);
        self::assertSame(['storage' => 'local', 'items' => [['key' => 'a', 'value' => base64_encode(serialize('v'))]]], $request);

        $kv->get('a');
        self::assertSame(['kv.MGet', ['storage' => 'local', 'items' => [['key' => 'a']]]], $this->lastRequest());
        $kv->clear();
        self::assertSame(['kv.Clear', ['storage' => 'local']], $this->lastRequest());
    }

    public function testTtlIsAnAbsoluteRfc3339TimeWithMicroseconds(): void
    {
        $kv = $this->storage();
        $before = microtime(true);
        $kv->set('a', 'v', 60);
        [, $request] = $this->lastRequest();
        $timeout = $request['items'][0]['timeout'];

        self::assertMatchesRegularExpression(self::RFC3339_MICRO, $timeout);
        $at = (float) (new \DateTimeImmutable($timeout))->format('U.u');
        self::assertGreaterThanOrEqual($before + 60, $at);
        self::assertLessThan($before + 62, $at);

        $kv->set('b', 'v', new \DateInterval('PT2H'));
        [, $request] = $this->lastRequest();
        $at = (float) (new \DateTimeImmutable($request['items'][0]['timeout']))->format('U.u');
        self::assertEqualsWithDelta($before + 7200, $at, 2.0);
    }

    public function testAZeroOrNegativeTtlDeletesTheKeys(): void
    {
        $kv = $this->storage();
        $kv->setMultiple(['a' => 1, 'b' => 2]);
        $kv->set('a', 'new', 0);
        self::assertSame(['kv.Delete', ['storage' => 'local', 'items' => [['key' => 'a']]]], $this->lastRequest());
        $kv->setMultiple(['b' => 3], -10);
        $interval = new \DateInterval('PT1S');
        $interval->invert = 1;
        $kv->set('c', 'x', $interval);
        self::assertSame(['a' => null, 'b' => null, 'c' => null], $kv->getMultiple(['a', 'b', 'c']));
    }

    public function testGetMultipleKeepsTheRequestedOrderAndDefaults(): void
    {
        $kv = $this->storage();
        self::assertTrue($kv->setMultiple(['x' => 'X', '7' => 'seven', 'y' => ['Y']]));
        self::assertSame(['y' => ['Y'], 'missing' => 'd', 'x' => 'X', '7' => 'seven'], $kv->getMultiple(['y', 'missing', 'x', 7], 'd'));
        self::assertSame('seven', $kv->get('7'));
        self::assertSame('fallback', $kv->get('nope', 'fallback'));
        self::assertSame([], $kv->getMultiple([]));
        self::assertFalse($kv->has('nope'));
    }

    public function testDeleteAndDeleteMultiple(): void
    {
        $kv = $this->storage();
        $kv->setMultiple(['a' => 1, 'b' => 2, 'c' => 3]);
        self::assertTrue($kv->delete('a'));
        self::assertTrue($kv->deleteMultiple(new \ArrayIterator(['b', 'missing'])));
        self::assertSame(['kv.Delete', ['storage' => 'local', 'items' => [['key' => 'b'], ['key' => 'missing']]]], $this->lastRequest());
        self::assertSame(['a' => null, 'b' => null, 'c' => 3], $kv->getMultiple(['a', 'b', 'c']));
        self::assertTrue($kv->clear());
        self::assertFalse($kv->has('c'));
    }

    public function testGetTtlAndExpire(): void
    {
        $kv = $this->storage();
        $kv->set('t', 'v', 3600);
        $kv->set('plain', 'v');

        $ttl = $kv->getTtl('t');
        self::assertInstanceOf(\DateTimeImmutable::class, $ttl);
        self::assertSame('UTC', $ttl->getTimezone()->getName());
        self::assertEqualsWithDelta(time() + 3600, $ttl->getTimestamp(), 2);
        self::assertNull($kv->getTtl('plain'));
        self::assertNull($kv->getTtl('missing'));
        self::assertSame(['plain', 'missing', 't'], array_keys($kv->getMultipleTtl(['plain', 'missing', 't'])));

        self::assertTrue($kv->expire('plain', 120));
        [$method, $request] = $this->lastRequest();
        self::assertSame('kv.MExpire', $method);
        self::assertSame('plain', $request['items'][0]['key']);
        self::assertMatchesRegularExpression(self::RFC3339_MICRO, $request['items'][0]['timeout']);
        self::assertArrayNotHasKey('value', $request['items'][0]);
        self::assertEqualsWithDelta(time() + 120, $kv->getTtl('plain')?->getTimestamp(), 2);

        $kv->expire(['t', 'plain'], 0); // over: deleted
        self::assertFalse($kv->has('t'));
        self::assertFalse($kv->has('plain'));
    }

    public function testACustomSerializerPair(): void
    {
        $json = new Storage($this->client, 'local', 'json_encode', static fn (string $b) => json_decode($b, true));
        $json->set('j', ['x' => 1]);
        [, $request] = $this->lastRequest();
        self::assertSame(base64_encode('{"x":1}'), $request['items'][0]['value']);
        self::assertSame(['x' => 1], $json->get('j'));

        $raw = $this->storage()->withSerializer(static fn (string $v): string => $v, static fn (string $b): string => $b);
        self::assertSame('{"x":1}', $raw->get('j'));
        self::assertSame('local', $raw->getName());
    }

    public function testValuesNotWrittenWithSerializeAreAnError(): void
    {
        $raw = $this->storage()->withSerializer(static fn (string $v): string => $v, static fn (string $b): string => $b);
        $raw->set('r', 'not serialized');
        $this->expectException(KvException::class);
        $this->expectExceptionMessage('not in serialize() format');
        $this->storage()->get('r');
    }

    public function testAnUnknownStorageIsAStorageExceptionWithTheServerText(): void
    {
        try {
            $this->storage('nope')->get('a');
            self::fail('no StorageException');
        } catch (StorageException $e) {
            self::assertSame('rpc_mget: no such storage: nope', $e->getMessage());
            self::assertSame('kv.MGet', $e->getMethod());
            self::assertInstanceOf(KvException::class, $e);
        }
        $this->expectException(StorageException::class);
        $this->expectExceptionMessage('rpc_set: no such storage: nope');
        $this->storage('nope')->set('a', 1);
    }

    public function testOtherServerErrorsAreKvExceptionsWithTheServerText(): void
    {
        try {
            $this->storage('broken')->set('a', 1);
            self::fail('no KvException');
        } catch (StorageException $e) {
            self::fail('not a StorageException: ' . $e->getMessage());
        } catch (KvException $e) {
            self::assertSame("rpc_set:\n\tredis_driver_set: redis unavailable: connect 127.0.0.1:1: Connection refused", $e->getMessage());
            self::assertSame('kv.Set', $e->getMethod());
        }
        self::assertTrue($this->storage()->set('still', 'works'), 'the connection stays usable');
    }

    /**
     * @return iterable<string, array{mixed}>
     */
    public function badKeys(): iterable
    {
        yield 'empty' => [''];
        yield 'blank' => ['  '];
        yield 'null' => [null];
        yield 'array' => [['a']];
    }

    /**
     * @dataProvider badKeys
     */
    public function testInvalidKeysAreRejectedBeforeSending(mixed $key): void
    {
        $next = $this->client->getNextSequence();
        try {
            $this->storage()->getMultiple([$key]);
            self::fail('no InvalidArgumentException');
        } catch (\InvalidArgumentException $e) {
            self::assertStringContainsString('non-empty string', $e->getMessage());
        }
        self::assertSame($next, $this->client->getNextSequence(), 'nothing was sent');
    }

    public function testConstructorChecks(): void
    {
        try {
            new Storage($this->client, '');
            self::fail('empty name accepted');
        } catch (\InvalidArgumentException) {
        }
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('both a serializer and an unserializer');
        new Storage($this->client, 'local', 'serialize');
    }

    public function testTransportErrorsAreRpcExceptions(): void
    {
        $server = new FakeRpcServer();
        $address = $server->address;
        $server->stop();
        $kv = new Storage(new Client($address, 1.0), 'local');
        try {
            $kv->get('a');
            self::fail('no RpcException');
        } catch (KvException $e) {
            self::fail('a transport error is not a KvException: ' . $e->getMessage());
        } catch (RpcException $e) {
            self::assertStringContainsString('Cannot connect to the RPC server', $e->getMessage());
        }
    }

    public function testFromEnvironmentUsesRrRpc(): void
    {
        $saved = getenv('RR_RPC');
        try {
            putenv('RR_RPC=' . self::$server?->address);
            $kv = Storage::fromEnvironment('local');
            $kv->set('env', 'yes');
            self::assertSame('yes', $kv->get('env'));
        } finally {
            putenv($saved === false ? 'RR_RPC' : "RR_RPC=$saved");
        }
    }
}
