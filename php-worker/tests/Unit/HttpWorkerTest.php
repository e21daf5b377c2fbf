<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit;

use Pivot\Worker\Http\BadRequestException;
use Pivot\Worker\Http\HttpWorker;
use Pivot\Worker\Http\Request;
use Pivot\Worker\Relay;
use Pivot\Worker\Tests\Support\Wire;
use Pivot\Worker\Worker;
use PHPUnit\Framework\TestCase;

final class HttpWorkerTest extends TestCase
{
    /** @var resource */
    private $out;

    private function http(string $input): HttpWorker
    {
        $this->out = fopen('php://memory', 'w+b');

        return new HttpWorker(new Worker(new Relay(Wire::input($input), $this->out)));
    }

    public function testDecodesARealisticContext(): void
    {
        $http = $this->http(Wire::pidRequest() . Wire::request(Wire::httpContext(), '{"name":"x"}'));
        Wire::contents($this->out); // the pid reply

        $r = $http->waitRequest();

        self::assertInstanceOf(Request::class, $r);
        self::assertSame('10.1.2.3', $r->remoteAddr);
        self::assertSame('HTTP/1.1', $r->protocol);
        self::assertSame('POST', $r->method);
        self::assertSame('http://example.test:8080/api/items?a=1&b[]=2&b[]=3', $r->uri);
        self::assertSame('/api/items', $r->path);
        self::assertSame('a=1&b[]=2&b[]=3', $r->rawQuery);
        self::assertSame(['a' => '1', 'b' => ['2', '3']], $r->query);
        self::assertSame(['application/json', 'text/plain'], $r->headers['Accept']);
        self::assertSame(['1.1.1.1', '2.2.2.2'], $r->headers['X-Forwarded-For']);
        self::assertSame(['session=abc; theme=dark'], $r->headers['Cookie']);
        self::assertSame(['session' => 'abc', 'theme' => 'dark'], $r->cookies);
        self::assertSame('{"name":"x"}', $r->body);
        self::assertFalse($r->parsed);
        self::assertNull($r->getParsedBody());
        self::assertSame([], $r->uploads);
        self::assertSame([Request::PARSED_BODY_ATTRIBUTE => false], $r->attributes);
        self::assertSame('application/json', $r->header('accept'));
        self::assertSame('13', $r->header('Content-Length'));
        self::assertNull($r->header('X-Missing'));
    }

    /**
     * @return iterable<string, array{string, string}>
     */
    public static function uris(): iterable
    {
        yield 'root' => ['http://h/', '/'];
        yield 'no path' => ['http://h', '/'];
        yield 'query without path, with a slash' => ['http://h?x=/y', '/'];
        yield 'port, slash in the query' => ['http://h:80/a/b?c=/d', '/a/b'];
        yield 'percent-encoded stays encoded' => ['https://h/a%20b', '/a%20b'];
        yield 'empty query' => ['http://h/a?', '/a'];
        yield 'user info' => ['http://u@h/p', '/p'];
        yield 'fragment' => ['http://h/p#f', '/p'];
        yield 'double slash' => ['http://h//double', '//double'];
        yield 'ipv6 host' => ['http://[::1]:8080/x?y', '/x'];
        yield 'relative with a URL in the query' => ['/rel?u=http://x/y', '/rel'];
        yield 'empty' => ['', '/'];
    }

    /**
     * @dataProvider uris
     */
    public function testPathIsCutFromTheUri(string $uri, string $path): void
    {
        $r = $this->http(Wire::request(Wire::httpContext(['uri' => $uri]), ''))->waitRequest();

        self::assertNotNull($r);
        self::assertSame($path, $r->path);
    }

    public function testOddlyShapedHeadersAndCookiesAreNormalized(): void
    {
        $context = Wire::httpContext([
            'headers' => ['X-Num' => [1, 2.5, true], '7' => ['dropped'], 'X-Scalar' => 'one', 'X-Empty' => []],
            'cookies' => ['a' => ['x', 'y'], 'n' => 5],
        ]);
        $r = $this->http(Wire::request($context, ''))->waitRequest();

        self::assertNotNull($r);
        self::assertSame(['X-Num' => ['1', '2.5', '1'], 'X-Scalar' => ['one'], 'X-Empty' => []], $r->headers);
        self::assertSame(['a' => 'x,y', 'n' => '5'], $r->cookies);
    }

    public function testParsedFormUploadsAndAttributes(): void
    {
        $uploads = [
            'avatar' => ['name' => 'a.png', 'mime' => 'image/png', 'size' => 3, 'error' => 0, 'tmpName' => '/tmp/x'],
        ];
        $context = Wire::httpContext([
            'method' => 'PUT',
            'uri' => 'https://example.test/',
            'rawQuery' => '',
            'parsed' => true,
            'uploads' => $uploads,
            'attributes' => ['ipAddress' => '9.9.9.9', 'n' => 1],
        ]);
        $r = $this->http(Wire::request($context, '{"a":{"b":"1"},"c":["x","y"]}'))->waitRequest();

        self::assertNotNull($r);
        self::assertSame('/', $r->path);
        self::assertSame([], $r->query);
        self::assertTrue($r->parsed);
        self::assertSame(['a' => ['b' => '1'], 'c' => ['x', 'y']], $r->getParsedBody());
        self::assertSame($uploads, $r->uploads);
        self::assertSame([Request::PARSED_BODY_ATTRIBUTE => true, 'ipAddress' => '9.9.9.9', 'n' => 1], $r->attributes);
    }

    public function testParsedWithEmptyBodyIsAnEmptyForm(): void
    {
        $r = $this->http(Wire::request(Wire::httpContext(['parsed' => true])))->waitRequest();

        self::assertSame([], $r?->getParsedBody());
    }

    public function testEmptyPayloadTerminates(): void
    {
        self::assertNull($this->http(Wire::request('') . Wire::request('{}', 'not reached'))->waitRequest());
    }

    public function testStopTerminates(): void
    {
        self::assertNull($this->http(Wire::stopControl())->waitRequest());
        self::assertNull($this->http('')->waitRequest());
    }

    public function testInvalidContextIsABadRequest(): void
    {
        $http = $this->http(Wire::request('{not json', 'b') . Wire::request('"a string"', 'b'));
        try {
            $http->waitRequest();
            self::fail('no exception');
        } catch (BadRequestException $e) {
            self::assertStringContainsString('Invalid HTTP request context', $e->getMessage());
        }
        $this->expectException(BadRequestException::class);
        $http->waitRequest();
    }

    public function testInvalidHeaderNamesAreDropped(): void
    {
        $context = Wire::httpContext(['headers' => ['' => ['x'], '123' => ['y'], 'Ok' => 'single']]);
        $r = $this->http(Wire::request($context))->waitRequest();

        self::assertSame(['Ok' => ['single']], $r?->headers);
    }

    public function testRespondEncodesStatusAndHeaders(): void
    {
        $http = $this->http('');
        $http->respond(201, 'created', [
            'Content-Type' => 'text/plain',
            'Set-Cookie' => ['a=1; Path=/', 'b=2'],
            'X-Int' => 5,
        ]);

        $context = '{"status":201,"headers":{"Content-Type":["text/plain"],'
            . '"Set-Cookie":["a=1; Path=/","b=2"],"X-Int":["5"]}}';
        self::assertSame(Wire::frame(0, [strlen($context)], $context . 'created'), Wire::contents($this->out));
    }

    public function testRespondWithoutHeadersSendsAnEmptyObject(): void
    {
        $http = $this->http('');
        $http->respond(204);

        $context = '{"status":204,"headers":{}}';
        self::assertSame(Wire::frame(0, [strlen($context)], $context), Wire::contents($this->out));
        self::assertSame('{"status":404,"headers":{}}', HttpWorker::encodeResponseContext(404, ['X-Empty' => []]));
    }

    public function testRepeatedAndChangedHeadersEncodeCorrectly(): void
    {
        $a = ['Content-Type' => ['text/plain']];
        $b = $a;
        $b['Content-Type'][] = 'charset=utf-8'; // a copy that differs from $a
        $expectA = '{"status":200,"headers":{"Content-Type":["text/plain"]}}';

        self::assertSame($expectA, HttpWorker::encodeResponseContext(200, $a));
        self::assertSame($expectA, HttpWorker::encodeResponseContext(200, $a), 'the same array again');
        self::assertSame('{"status":201,"headers":{"Content-Type":["text/plain"]}}', HttpWorker::encodeResponseContext(201, $a));
        self::assertSame(
            '{"status":201,"headers":{"Content-Type":["text/plain","charset=utf-8"]}}',
            HttpWorker::encodeResponseContext(201, $b)
        );
        self::assertSame('{"status":201,"headers":{"X":["1"]}}', HttpWorker::encodeResponseContext(201, ['X' => 1]));
        self::assertSame($expectA, HttpWorker::encodeResponseContext(200, ['Content-Type' => ['text/plain']]));
    }

    public function testRespondContextIsValidJsonForUnicode(): void
    {
        $context = HttpWorker::encodeResponseContext(200, ['Content-Disposition' => 'attachment; filename="ä/b.txt"']);

        self::assertSame(
            ['status' => 200, 'headers' => ['Content-Disposition' => ['attachment; filename="ä/b.txt"']]],
            json_decode($context, true, 8, JSON_THROW_ON_ERROR)
        );
    }

    public function testInvalidUtf8HeaderThrows(): void
    {
        $this->expectException(\JsonException::class);
        $this->http('')->respond(200, '', ['X-Bad' => "\xff"]);
    }

    public function testInformationalStatusCannotHaveABody(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        $this->http('')->respond(103, 'body');
    }

    public function testGetWorker(): void
    {
        $worker = new Worker(new Relay(Wire::input(''), fopen('php://memory', 'w+b')));

        self::assertSame($worker, (new HttpWorker($worker))->getWorker());
    }
}
