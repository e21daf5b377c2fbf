<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit\Rpc;

use Pivot\Worker\Frame;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\RpcException;
use Pivot\Worker\Rpc\ServiceException;
use Pivot\Worker\Tests\Support\FakeRpcServer;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\WorkerException;
use PHPUnit\Framework\TestCase;

/**
 * Rpc\Client against tests/Fixtures/fake_rpc_server.php, a real server process on a real socket.
 */
final class ClientTest extends TestCase
{
    private const ERROR_TEXT = "rpc_test: something failed: \"quoted\" \u{00fc}n\u{00ef}code:\n\tnested cause";

    private static ?FakeRpcServer $server = null;

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

    private static function client(float $timeout = 5.0): Client
    {
        return new Client((string) self::$server?->address, $timeout);
    }

    public function testRequestFrameOfTheDocumentedExample(): void
    {
        // roadrunner-protocol.md §1.5 (f): informer.List, JSON, seq 1, argument true.
        $expected = '150811000000b0490c3a0000010000000d000000' . bin2hex('informer.List') . bin2hex('true');

        self::assertSame(
            $expected,
            bin2hex(Frame::encode(new Frame(Frame::CODEC_JSON, [1, 13], 'informer.List' . 'true')))
        );
        self::assertSame($expected, bin2hex(Wire::frame(0x08, [1, 13], 'informer.Listtrue')));

        // ...and the client sends exactly these bytes (the fake server keeps the previous request).
        $client = self::client();
        self::assertSame(['http', 'jobs'], $client->call('informer.List', true));
        self::assertSame($expected, $client->call('test.LastRequest', null));
    }

    public function testTheClientSendsByteExactFrames(): void
    {
        $client = self::client();
        self::assertSame(1, $client->getNextSequence());
        self::assertFalse($client->isConnected(), 'connects lazily');

        $echo = $client->call('test.Echo', true);

        self::assertTrue($client->isConnected());
        self::assertSame(1, $echo['seq']);
        self::assertSame('test.Echo', $echo['method']);
        self::assertSame(Frame::CODEC_JSON, $echo['flags']);
        self::assertTrue($echo['arg']);
        self::assertSame(bin2hex(Wire::frame(0x08, [1, 9], 'test.Echotrue')), $echo['request']);
    }

    public function testInformerListReturnsTheDecodedArray(): void
    {
        self::assertSame(['http', 'jobs'], self::client()->call('informer.List', true));
    }

    public function testSequenceIncrementsAcrossCalls(): void
    {
        $client = self::client();
        $arg = ['nested' => ['a' => 1, 'b' => [1.0, 'ü/x']], 'list' => [1, 2]];
        for ($seq = 1; $seq <= 4; $seq++) {
            $echo = $client->call('test.Echo', $arg);
            self::assertSame($seq, $echo['seq']);
            self::assertSame($arg, $echo['arg']);
            $json = '{"nested":{"a":1,"b":[1.0,"ü/x"]},"list":[1,2]}';
            self::assertSame(
                bin2hex(Wire::frame(0x08, [$seq, 9], 'test.Echo' . $json)),
                $echo['request']
            );
        }
        self::assertSame(5, $client->getNextSequence());

        // An error reply is a completed call too.
        try {
            $client->call('test.Error', null);
            self::fail('no ServiceException');
        } catch (ServiceException) {
        }
        self::assertSame(6, $client->call('test.Echo', null)['seq']);
    }

    public function testServicePrefix(): void
    {
        $client = self::client();
        $informer = $client->withServicePrefix('informer');
        $test = $client->withServicePrefix('test');

        self::assertNotSame($client, $informer);
        self::assertSame(['http', 'jobs'], $informer->call('List', true));
        $echo = $test->call('Echo', 'x');
        self::assertSame('test.Echo', $echo['method']);
        self::assertSame(2, $echo['seq'], 'clones share the connection and the sequence counter');
        self::assertSame(3, $client->getNextSequence());
        self::assertSame(3, $client->call('test.Echo', 0)['seq'], 'the original has no prefix');
    }

    public function testErrorReplyIsAServiceExceptionWithTheVerbatimText(): void
    {
        $client = self::client();
        try {
            $client->call('test.Error', ['x' => 1]);
            self::fail('no ServiceException');
        } catch (ServiceException $e) {
            self::assertSame(self::ERROR_TEXT, $e->getServerError());
            self::assertSame('test.Error', $e->getMethod());
            self::assertStringContainsString(self::ERROR_TEXT, $e->getMessage());
            self::assertSame(
                "Error '" . self::ERROR_TEXT . "' on " . $client->getAddress() . ' (test.Error)',
                $e->getMessage()
            );
            self::assertInstanceOf(RpcException::class, $e);
            self::assertInstanceOf(WorkerException::class, $e);
        }
        self::assertTrue($client->isConnected(), 'an error reply keeps the connection');
        self::assertSame(2, $client->call('test.Echo', 1)['seq']);
    }

    public function testUnknownServiceErrorText(): void
    {
        $this->expectException(ServiceException::class);
        $this->expectExceptionMessage("Error 'rpc: can't find service nope' on ");
        self::client()->call('nope.Method', true);
    }

    public function testWrongSequenceIsRejected(): void
    {
        $client = self::client();
        $client->call('test.Echo', 1);
        try {
            $client->call('test.WrongSeq', true);
            self::fail('no RpcException');
        } catch (ServiceException $e) {
            self::fail('not a service error: ' . $e->getMessage());
        } catch (RpcException $e) {
            self::assertStringContainsString('RPC sequence mismatch: expected 2, got 3', $e->getMessage());
        }
        self::assertFalse($client->isConnected(), 'a broken exchange closes the connection');
        self::assertSame(2, $client->call('test.Echo', 1)['seq'], 'reconnects; the failed call did not complete');
    }

    public function testBadCrcIsRejected(): void
    {
        $client = self::client();
        try {
            $client->call('test.BadCrc', true);
            self::fail('no RpcException');
        } catch (RpcException $e) {
            self::assertNotInstanceOf(ServiceException::class, $e);
            self::assertStringContainsString('Invalid RPC reply to test.BadCrc', $e->getMessage());
            self::assertStringContainsString('CRC mismatch', $e->getMessage());
        }
        self::assertFalse($client->isConnected());
        self::assertSame(['http', 'jobs'], $client->call('informer.List', true));
    }

    public function testReplyWithOneOptionIsRejected(): void
    {
        $this->expectException(RpcException::class);
        $this->expectExceptionMessage('Invalid RPC frame, options missing');
        self::client()->call('test.OneOption', true);
    }

    public function testInvalidJsonReply(): void
    {
        $this->expectException(RpcException::class);
        $this->expectExceptionMessage('Invalid JSON in the reply to test.NotJson');
        self::client()->call('test.NotJson', true);
    }

    public function testReplyArrivingInPieces(): void
    {
        $echo = self::client()->call('test.Split', 'pieces');

        self::assertSame('pieces', $echo['arg']);
        self::assertSame('test.Split', $echo['method']);
    }

    public function testLargeReply(): void
    {
        $size = 3 * 1024 * 1024 + 7;
        self::assertSame(str_repeat('x', $size), self::client()->call('test.Big', $size));
    }

    public function testRawCodec(): void
    {
        $client = self::client();
        $bytes = "\x00\x01binary\xff";

        self::assertSame(strrev($bytes), $client->call('test.Echo', $bytes, Client::RAW));
        self::assertSame(strrev('proto'), $client->call('test.Echo', 'proto', Client::PROTO));
        self::assertSame(3, $client->getNextSequence());

        try {
            $client->call('test.Error', '', Client::RAW);
            self::fail('no ServiceException');
        } catch (ServiceException $e) {
            self::assertSame(self::ERROR_TEXT, $e->getServerError());
        }
    }

    public function testRawCodecNeedsAString(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        self::client()->call('test.Echo', ['no'], Client::RAW);
    }

    public function testUnsupportedCodec(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->expectExceptionMessage('Unsupported RPC codec 0x20');
        self::client()->call('test.Echo', 1, Frame::CODEC_GOB);
    }

    public function testUnencodableArgument(): void
    {
        $client = self::client();
        try {
            $client->call('test.Echo', "\xff invalid utf-8");
            self::fail('no RpcException');
        } catch (RpcException $e) {
            self::assertStringContainsString('Cannot JSON-encode the argument of test.Echo', $e->getMessage());
        }
        self::assertFalse($client->isConnected(), 'nothing was sent');
        self::assertSame(1, $client->call('test.Echo', 1)['seq']);
    }

    public function testTimeout(): void
    {
        $client = self::client(0.3);
        $start = microtime(true);
        try {
            $client->call('test.Silent', true);
            self::fail('no RpcException');
        } catch (RpcException $e) {
            self::assertStringContainsString('RPC timeout: test.Silent from', $e->getMessage());
            self::assertStringContainsString('longer than 0.3s', $e->getMessage());
        }
        $elapsed = microtime(true) - $start;
        self::assertGreaterThanOrEqual(0.29, $elapsed);
        self::assertLessThan(2.0, $elapsed);
        self::assertFalse($client->isConnected(), 'a late reply cannot be mistaken for the next one');
        self::assertSame(['http', 'jobs'], $client->call('informer.List', true));
    }

    public function testServerClosingTheConnection(): void
    {
        $client = self::client();
        try {
            $client->call('test.Close', true);
            self::fail('no RpcException');
        } catch (RpcException $e) {
            self::assertStringContainsString('closed the connection without answering test.Close', $e->getMessage());
        }
        self::assertSame(1, $client->call('test.Echo', 1)['seq']);
    }

    public function testConnectionRefused(): void
    {
        $server = new FakeRpcServer();
        $address = $server->address;
        $server->stop();

        $client = new Client($address, 1.0);
        self::assertFalse($client->isConnected());
        $this->expectException(RpcException::class);
        $this->expectExceptionMessage("Cannot connect to the RPC server at $address");
        $client->call('informer.List', true);
    }

    public function testUnixSocket(): void
    {
        $path = sys_get_temp_dir() . '/pivot-rpc-' . getmypid() . '-' . bin2hex(random_bytes(4)) . '.sock';
        $server = new FakeRpcServer('unix://' . $path);
        try {
            $client = new Client('unix://' . $path);
            self::assertSame(['http', 'jobs'], $client->call('informer.List', true));
            $echo = $client->call('test.Echo', 'over unix');
            self::assertSame(2, $echo['seq']);
            self::assertSame('over unix', $echo['arg']);
            $client->close();
            self::assertFalse($client->isConnected());
            self::assertSame(3, $client->call('test.Echo', 1)['seq'], 'close() keeps the counter');
        } finally {
            self::assertSame('', $server->stop());
            @unlink($path);
        }
    }

    public function testFromEnvironment(): void
    {
        $saved = getenv('RR_RPC');
        try {
            putenv('RR_RPC');
            self::assertSame('tcp://127.0.0.1:6001', Client::fromEnvironment()->getAddress());
            self::assertSame(5.0, Client::fromEnvironment()->getTimeout());

            putenv('RR_RPC=' . self::$server?->address);
            $client = Client::fromEnvironment(2.5);
            self::assertSame(self::$server?->address, $client->getAddress());
            self::assertSame(2.5, $client->getTimeout());
            self::assertSame(['http', 'jobs'], $client->call('informer.List', true));
        } finally {
            putenv($saved === false ? 'RR_RPC' : "RR_RPC=$saved");
        }
    }

    /**
     * @return iterable<string, array{string}>
     */
    public function invalidAddresses(): iterable
    {
        yield 'no scheme' => ['127.0.0.1:6001'];
        yield 'no port' => ['tcp://127.0.0.1'];
        yield 'pipes' => ['pipes'];
        yield 'empty unix' => ['unix://'];
    }

    /**
     * @dataProvider invalidAddresses
     */
    public function testInvalidAddress(string $address): void
    {
        $this->expectException(\InvalidArgumentException::class);
        new Client($address);
    }

    public function testInvalidTimeoutAndPrefix(): void
    {
        try {
            new Client('tcp://127.0.0.1:6001', 0);
            self::fail('timeout 0 accepted');
        } catch (\InvalidArgumentException) {
        }
        $this->expectException(\InvalidArgumentException::class);
        (new Client())->withServicePrefix('');
    }
}
