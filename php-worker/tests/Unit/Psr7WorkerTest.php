<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Nyholm\Psr7\Factory\Psr17Factory;
use Pivot\Worker\Http\BadRequestException;
use Pivot\Worker\Http\Psr7Worker;
use Pivot\Worker\Relay;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;
use PHPUnit\Framework\TestCase;
use Psr\Http\Message\UploadedFileInterface;

final class Psr7WorkerTest extends TestCase
{
    /** @var resource */
    private $out;

    /** @var array<array-key, mixed> */
    private array $savedServer;

    /** @var string[] */
    private array $tempFiles = [];

    protected function setUp(): void
    {
        $this->savedServer = $_SERVER;
    }

    protected function tearDown(): void
    {
        $_SERVER = $this->savedServer;
        foreach ($this->tempFiles as $file) {
            @unlink($file);
        }
    }

    private function psr7(string $input): Psr7Worker
    {
        $this->out = fopen('php://memory', 'w+b');
        $factory = new Psr17Factory();

        return new Psr7Worker(new Worker(new Relay(Wire::input($input), $this->out)), $factory, $factory, $factory);
    }

    public function testNyholmIsLoadedThroughTheAutoloader(): void
    {
        self::assertTrue(class_exists(Psr17Factory::class));
        $file = (string) (new \ReflectionClass(Psr17Factory::class))->getFileName();
        self::assertStringStartsWith('/usr/share/php/', $file);
    }

    public function testMapsARealisticRequest(): void
    {
        $r = $this->psr7(Wire::request(Wire::httpContext(), '{"name":"x"}'))->waitRequest();

        self::assertNotNull($r);
        self::assertSame('POST', $r->getMethod());
        // Nyholm percent-encodes the brackets of the query.
        self::assertSame('http://example.test:8080/api/items?a=1&b%5B%5D=2&b%5B%5D=3', (string) $r->getUri());
        self::assertSame('/api/items', $r->getUri()->getPath());
        self::assertSame('1.1', $r->getProtocolVersion());
        self::assertSame(['a' => '1', 'b' => ['2', '3']], $r->getQueryParams());
        self::assertSame(['session' => 'abc', 'theme' => 'dark'], $r->getCookieParams());
        self::assertSame(['application/json', 'text/plain'], $r->getHeader('accept'));
        self::assertSame('1.1.1.1, 2.2.2.2', $r->getHeaderLine('X-Forwarded-For'));
        self::assertSame('example.test:8080', $r->getHeaderLine('Host'));
        self::assertSame('{"name":"x"}', (string) $r->getBody());
        self::assertNull($r->getParsedBody());
        self::assertSame([], $r->getUploadedFiles());
        self::assertFalse($r->getAttribute('rr_parsed_body'));

        $server = $r->getServerParams();
        self::assertSame('/api/items?a=1&b[]=2&b[]=3', $server['REQUEST_URI']);
        self::assertSame('POST', $server['REQUEST_METHOD']);
        self::assertSame('a=1&b[]=2&b[]=3', $server['QUERY_STRING']);
        self::assertSame('HTTP/1.1', $server['SERVER_PROTOCOL']);
        self::assertSame('10.1.2.3', $server['REMOTE_ADDR']);
        self::assertSame('application/json', $server['CONTENT_TYPE']);
        self::assertSame('13', $server['CONTENT_LENGTH']);
        self::assertSame('application/json, text/plain', $server['HTTP_ACCEPT']);
        self::assertSame('1.1.1.1, 2.2.2.2', $server['HTTP_X_FORWARDED_FOR']);
        self::assertSame('example.test:8080', $server['HTTP_HOST']);
        self::assertSame('example.test', $server['SERVER_NAME']);
        self::assertSame('8080', $server['SERVER_PORT']);
        self::assertArrayNotHasKey('HTTPS', $server);
        self::assertIsInt($server['REQUEST_TIME']);
        self::assertIsFloat($server['REQUEST_TIME_FLOAT']);
        self::assertEqualsWithDelta(microtime(true), $server['REQUEST_TIME_FLOAT'], 5.0);
        self::assertSame($server, $_SERVER, '$_SERVER is set for the request');
        self::assertSame($this->savedServer['argv'] ?? null, $server['argv'] ?? null, 'original entries are kept');
    }

    /**
     * @return iterable<string, array{string, string}>
     */
    public function protocols(): iterable
    {
        yield 'HTTP/1.0' => ['HTTP/1.0', '1.0'];
        yield 'HTTP/1.1' => ['HTTP/1.1', '1.1'];
        yield 'HTTP/2.0' => ['HTTP/2.0', '2'];
        yield 'HTTP/2' => ['HTTP/2', '2'];
        yield 'unknown' => ['HTTP/3.7', '1.1'];
    }

    /**
     * @dataProvider protocols
     */
    public function testProtocolVersion(string $protocol, string $expected): void
    {
        $r = $this->psr7(Wire::request(Wire::httpContext(['protocol' => $protocol])))->waitRequest();

        self::assertSame($expected, $r?->getProtocolVersion());
    }

    public function testParsedBodyUploadsAndAttributes(): void
    {
        $tmp = (string) tempnam(sys_get_temp_dir(), 'pivot-upload');
        $this->tempFiles[] = $tmp;
        file_put_contents($tmp, 'PNGDATA');
        $file = ['name' => 'a.png', 'mime' => 'image/png', 'size' => 7, 'error' => 0, 'tmpName' => $tmp];
        $context = Wire::httpContext([
            'uri' => 'https://example.test/upload',
            'rawQuery' => '',
            'headers' => ['Content-Type' => ['multipart/form-data; boundary=x']],
            'parsed' => true,
            'uploads' => [
                'avatar' => $file,
                'docs' => [$file, ['name' => 'b.txt', 'mime' => '', 'size' => 0, 'error' => 4, 'tmpName' => '']],
                'nested' => ['deep' => $file],
            ],
            'attributes' => ['custom' => 'value'],
        ]);
        $r = $this->psr7(Wire::request($context, '{"title":"T","tags":["a","b"]}'))->waitRequest();

        self::assertNotNull($r);
        self::assertSame(['title' => 'T', 'tags' => ['a', 'b']], $r->getParsedBody());
        self::assertTrue($r->getAttribute('rr_parsed_body'));
        self::assertSame('value', $r->getAttribute('custom'));
        self::assertSame('on', $r->getServerParams()['HTTPS']);
        self::assertSame('443', $r->getServerParams()['SERVER_PORT']);
        self::assertSame('/upload', $r->getServerParams()['REQUEST_URI']);

        $files = $r->getUploadedFiles();
        $avatar = $files['avatar'];
        self::assertInstanceOf(UploadedFileInterface::class, $avatar);
        self::assertSame('a.png', $avatar->getClientFilename());
        self::assertSame('image/png', $avatar->getClientMediaType());
        self::assertSame(7, $avatar->getSize());
        self::assertSame(UPLOAD_ERR_OK, $avatar->getError());
        self::assertSame('PNGDATA', (string) $avatar->getStream());
        self::assertSame('a.png', $files['docs'][0]->getClientFilename());
        self::assertSame(UPLOAD_ERR_NO_FILE, $files['docs'][1]->getError());
        self::assertSame('b.txt', $files['docs'][1]->getClientFilename());
        self::assertSame('PNGDATA', (string) $files['nested']['deep']->getStream());
    }

    public function testInvalidParsedBodyIsABadRequest(): void
    {
        $this->expectException(BadRequestException::class);
        $this->expectExceptionMessage('Invalid parsed body');
        $this->psr7(Wire::request(Wire::httpContext(['parsed' => true]), 'not json'))->waitRequest();
    }

    public function testMissingUploadFileIsABadRequest(): void
    {
        $file = ['name' => 'a', 'mime' => 'x/y', 'size' => 1, 'error' => 0, 'tmpName' => '/nonexistent/pivot-upload'];
        $this->expectException(BadRequestException::class);
        $this->psr7(Wire::request(Wire::httpContext(['uploads' => ['f' => $file]])))->waitRequest();
    }

    public function testTerminate(): void
    {
        self::assertNull($this->psr7(Wire::stopControl())->waitRequest());
        self::assertNull($this->psr7(Wire::request(''))->waitRequest());
    }

    public function testRespondSendsStatusHeadersAndBody(): void
    {
        $factory = new Psr17Factory();
        $psr7 = $this->psr7('');
        $body = $factory->createStream('{"ok":true}');
        $body->read(3); // respond() must send the whole body, not what is left of it
        $psr7->respond(
            $factory->createResponse(404)
                ->withHeader('Content-Type', 'application/json')
                ->withAddedHeader('Set-Cookie', 'a=1')
                ->withAddedHeader('Set-Cookie', 'b=2')
                ->withBody($body)
        );

        $context = '{"status":404,"headers":{"Content-Type":["application/json"],"Set-Cookie":["a=1","b=2"]}}';
        self::assertSame(Wire::frame(0, [strlen($context)], $context . '{"ok":true}'), Wire::contents($this->out));
    }

    public function testRespondWithoutHeaders(): void
    {
        $psr7 = $this->psr7('');
        $psr7->respond((new Psr17Factory())->createResponse(204));

        $context = '{"status":204,"headers":{}}';
        self::assertSame(Wire::frame(0, [strlen($context)], $context), Wire::contents($this->out));
    }

    public function testAccessors(): void
    {
        $factory = new Psr17Factory();
        $worker = new Worker(new Relay(Wire::input(''), fopen('php://memory', 'w+b')));
        $psr7 = new Psr7Worker($worker, $factory, $factory, $factory);

        self::assertSame($worker, $psr7->getWorker());
        self::assertSame($worker, $psr7->getHttpWorker()->getWorker());
    }
}
