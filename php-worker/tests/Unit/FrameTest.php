<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Pivot\Worker\Frame;
use Pivot\Worker\Relay;
use Pivot\Worker\RelayException;
use Pivot\Worker\Tests\Support\Wire;
use PHPUnit\Framework\TestCase;

final class FrameTest extends TestCase
{
    /**
     * @return iterable<string, array{int, int[], string, int, string}>
     */
    public function goldenFrames(): iterable
    {
        $file = PIVOT_REPO_ROOT . '/tests/vectors/goridge_frames.json';
        $vectors = json_decode((string) file_get_contents($file), true, 16, JSON_THROW_ON_ERROR);
        foreach ($vectors['frames'] as $v) {
            yield $v['name'] => [
                $v['flags'],
                $v['options'],
                (string) hex2bin($v['payload_hex']),
                $v['byte10'],
                $v['frame_hex'],
            ];
        }
    }

    /**
     * @dataProvider goldenFrames
     * @param int[] $options
     */
    public function testEncodeMatchesGoldenFrame(
        int $flags,
        array $options,
        string $payload,
        int $byte10,
        string $hex
    ): void
    {
        self::assertSame($hex, bin2hex(Frame::encode(new Frame($flags, $options, $payload, $byte10))));
    }

    /**
     * @dataProvider goldenFrames
     * @param int[] $options
     */
    public function testReceiveDecodesGoldenFrame(
        int $flags,
        array $options,
        string $payload,
        int $byte10,
        string $hex
    ): void
    {
        $relay = new Relay(Wire::input((string) hex2bin($hex)), fopen('php://memory', 'w+b'));
        $frame = $relay->receive();

        self::assertNotNull($frame);
        self::assertSame($flags, $frame->flags);
        self::assertSame($options, $frame->options);
        self::assertSame($payload, $frame->payload);
        self::assertSame($byte10, $frame->byte10);
        self::assertNull($relay->receive(), 'clean EOF after the frame');
    }

    /**
     * @dataProvider goldenFrames
     * @param int[] $options
     */
    public function testSendWritesGoldenFrame(
        int $flags,
        array $options,
        string $payload,
        int $byte10,
        string $hex
    ): void
    {
        $out = fopen('php://memory', 'w+b');
        (new Relay(Wire::input(''), $out))->send(new Frame($flags, $options, $payload, $byte10));

        self::assertSame($hex, bin2hex(Wire::contents($out)));
    }

    public function testGoldenVectorsAreNotEmpty(): void
    {
        self::assertGreaterThanOrEqual(10, iterator_count($this->goldenFrames()));
    }

    public function testTestHelperAgreesWithEncoder(): void
    {
        $options = [0, 1, 0xFFFFFFFF, 7, 8, 9, 10, 11, 12, 13];
        self::assertSame(
            bin2hex(Wire::frame(0xC5, $options, str_repeat("\x00\xff", 300), 0x0F)),
            bin2hex(Frame::encode(new Frame(0xC5, $options, str_repeat("\x00\xff", 300), 0x0F)))
        );
    }

    public function testDecodeHeader(): void
    {
        $h = Frame::decodeHeader(substr(Wire::frame(0x40, [5, 6], 'hello', 0x01), 0, 12));

        self::assertSame([
            'version' => 1,
            'hl' => 5,
            'flags' => 0x40,
            'payloadLength' => 5,
            'crc' => $h['crc'],
            'byte10' => 1,
            'byte11' => 0,
            'optionCount' => 2,
        ], $h);
    }

    public function testCorruptedCrcIsRejected(): void
    {
        $bytes = (string) hex2bin('13090d0000003a6bfacb00007b22706964223a31323334357d');
        $bytes[7] = chr(ord($bytes[7]) ^ 0x01);

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('CRC mismatch');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    public function testCorruptedLengthIsRejectedByCrc(): void
    {
        $bytes = Wire::frame(0, [3], 'abcdef');
        $bytes[2] = "\x07"; // payload length 6 -> 7, CRC unchanged

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('CRC mismatch');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    public function testStrayTextIsRejected(): void
    {
        $this->expectException(RelayException::class);
        (new Relay(Wire::input("Could not open input file: worker.php\n"), fopen('php://memory', 'w+b')))->receive();
    }

    public function testHeaderLengthBelowThreeIsRejected(): void
    {
        $head = chr(0x12) . "\x00" . pack('V', 0);
        $bytes = $head . pack('V', crc32($head)) . "\x00\x00";

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('HL=2');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    public function testHeaderLengthAboveThirteenIsRejected(): void
    {
        $head = chr(0x1E) . "\x00" . pack('V', 0);
        $bytes = $head . pack('V', crc32($head)) . "\x00\x00" . str_repeat("\x00", 44);

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('HL=14');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    public function testWrongVersionIsRejected(): void
    {
        $head = chr(0x23) . "\x00" . pack('V', 0);
        $bytes = $head . pack('V', crc32($head)) . "\x00\x00";

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('version 2');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    /**
     * @return iterable<string, array{int}>
     */
    public function truncations(): iterable
    {
        // A 1-option frame: 12 header bytes, 4 option bytes, 9 payload bytes.
        yield 'inside the header' => [5];
        yield 'after the header' => [12];
        yield 'inside the options' => [14];
        yield 'after the options' => [16];
        yield 'inside the payload' => [20];
        yield 'one byte short' => [24];
    }

    /**
     * @dataProvider truncations
     */
    public function testTruncatedFrameThrows(int $keep): void
    {
        $bytes = substr(Wire::frame(0, [4], 'ctx!body!'), 0, $keep);

        $this->expectException(RelayException::class);
        $this->expectExceptionMessage('Truncated frame');
        (new Relay(Wire::input($bytes), fopen('php://memory', 'w+b')))->receive();
    }

    public function testEmptyStreamIsCleanEof(): void
    {
        self::assertNull((new Relay(Wire::input(''), fopen('php://memory', 'w+b')))->receive());
    }

    public function testSeveralFramesInOneStream(): void
    {
        $relay = new Relay(
            Wire::input(Wire::frame(1, [], 'a') . Wire::frame(2, [1, 2], 'bb', 4) . Wire::frame(3, [0], '')),
            fopen('php://memory', 'w+b')
        );

        self::assertSame('a', $relay->receive()?->payload);
        $second = $relay->receive();
        self::assertNotNull($second);
        self::assertSame([2, [1, 2], 'bb', 4], [$second->flags, $second->options, $second->payload, $second->byte10]);
        self::assertSame([0], $relay->receive()?->options);
        self::assertNull($relay->receive());
    }

    public function testLargePayloadRoundTripsThroughAPipe(): void
    {
        $payload = random_bytes(3 * 1024 * 1024 + 17);
        $frame = new Frame(Frame::CODEC_RAW, [100], $payload, Frame::STREAM);
        // A child process writes the frame into a pipe, so the reader sees partial reads.
        $file = (string) tempnam(sys_get_temp_dir(), 'pivot');
        file_put_contents($file, Frame::encode($frame));
        $writer = proc_open(
            [\PHP_BINARY, '-r', 'readfile($argv[1]);', $file],
            [1 => ['pipe', 'w']],
            $pipes
        );
        self::assertIsResource($writer);
        $received = (new Relay($pipes[1], fopen('php://memory', 'w+b')))->receive();
        fclose($pipes[1]);
        proc_close($writer);
        unlink($file);

        self::assertNotNull($received);
        self::assertSame(Frame::CODEC_RAW, $received->flags);
        self::assertSame([100], $received->options);
        self::assertSame(Frame::STREAM, $received->byte10);
        self::assertTrue($payload === $received->payload, 'payload intact');
    }

    public function testInvalidFramesCannotBeBuilt(): void
    {
        $cases = [
            static fn () => new Frame(256),
            static fn () => new Frame(-1),
            static fn () => new Frame(0, array_fill(0, 11, 0)),
            static fn () => new Frame(0, [-1]),
            static fn () => new Frame(0, [0x100000000]),
            static fn () => new Frame(0, [], '', 256),
        ];
        foreach ($cases as $i => $make) {
            try {
                $make();
                self::fail("case $i did not throw");
            } catch (\InvalidArgumentException) {
                $this->addToAssertionCount(1);
            }
        }
    }

    public function testHexdumpIsBounded(): void
    {
        self::assertSame('00 ff', Frame::hexdump("\x00\xff"));
        self::assertSame('61 61 …', Frame::hexdump('aaaa', 2));
    }
}
