<?php

declare(strict_types=1);

namespace Pivot\Worker\Http;

use Pivot\Worker\Worker;
use Psr\Http\Message\ResponseInterface;
use Psr\Http\Message\ServerRequestFactoryInterface;
use Psr\Http\Message\ServerRequestInterface;
use Psr\Http\Message\StreamFactoryInterface;
use Psr\Http\Message\UploadedFileFactoryInterface;
use Psr\Http\Message\UploadedFileInterface;

/**
 * PSR-7 on top of {@see HttpWorker}, with any PSR-17 factories.
 *
 *     $factory = new \Nyholm\Psr7\Factory\Psr17Factory();
 *     $psr7 = new Psr7Worker(Worker::create(), $factory, $factory, $factory);
 *     while ($request = $psr7->waitRequest()) {
 *         $psr7->respond($factory->createResponse(200)->withBody($factory->createStream('Hi')));
 *     }
 *
 * Each request also replaces the global $_SERVER with the request's server params.
 */
final class Psr7Worker
{
    private const PROTOCOL_VERSIONS = ['1.0', '1.1', '2'];

    private readonly HttpWorker $httpWorker;

    /** @var array<array-key, mixed> $_SERVER as it was when the worker started */
    private readonly array $originalServer;

    public function __construct(
        private readonly Worker $worker,
        private readonly ServerRequestFactoryInterface $requestFactory,
        private readonly StreamFactoryInterface $streamFactory,
        private readonly UploadedFileFactoryInterface $uploadsFactory,
    ) {
        $this->httpWorker = new HttpWorker($worker);
        $this->originalServer = $_SERVER;
    }

    public function getWorker(): Worker
    {
        return $this->worker;
    }

    public function getHttpWorker(): HttpWorker
    {
        return $this->httpWorker;
    }

    /**
     * The next request, or null when the worker must stop.
     *
     * @throws BadRequestException when the request context, its parsed body or an upload cannot be
     *         decoded; the request is still pending and must be answered (e.g. with the worker's error())
     */
    public function waitRequest(): ?ServerRequestInterface
    {
        $request = $this->httpWorker->waitRequest();
        if ($request === null) {
            return null;
        }
        try {
            $_SERVER = $this->serverParams($request);

            return $this->mapRequest($request, $_SERVER);
        } catch (BadRequestException $e) {
            throw $e;
        } catch (\Throwable $e) {
            // e.g. an uploaded file that cannot be opened: the request is pending, let the caller answer it
            throw new BadRequestException('Cannot build the PSR-7 request: ' . $e->getMessage(), 0, $e);
        }
    }

    /**
     * Sends status, every header (all values) and the body.
     *
     * @throws \JsonException when a header is not valid UTF-8
     */
    public function respond(ResponseInterface $response): void
    {
        $body = $response->getBody();
        if ($body->isSeekable()) {
            $body->rewind();
        }
        $this->httpWorker->respond($response->getStatusCode(), $body->getContents(), $response->getHeaders());
    }

    /**
     * Server params in the style of PHP-FPM for the request.
     *
     * @return array<array-key, mixed>
     */
    public function serverParams(Request $request): array
    {
        $server = $this->originalServer;
        $now = microtime(true);
        $parts = parse_url($request->uri);
        $parts = is_array($parts) ? $parts : [];

        $server['REQUEST_URI'] = $request->path . ($request->rawQuery !== '' ? '?' . $request->rawQuery : '');
        $server['REQUEST_METHOD'] = $request->method;
        $server['QUERY_STRING'] = $request->rawQuery;
        $server['SERVER_PROTOCOL'] = $request->protocol;
        $server['REMOTE_ADDR'] = $request->remoteAddr;
        $server['REQUEST_TIME'] = (int) $now;
        $server['REQUEST_TIME_FLOAT'] = $now;
        $scheme = strtolower((string) ($parts['scheme'] ?? 'http'));
        if ($scheme === 'https') {
            $server['HTTPS'] = 'on';
        } else {
            unset($server['HTTPS']);
        }
        if (isset($parts['host'])) {
            $server['SERVER_NAME'] = $parts['host'];
            $server['SERVER_PORT'] = (string) ($parts['port'] ?? ($scheme === 'https' ? 443 : 80));
            $server['HTTP_HOST'] = $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
        }

        foreach ($request->headers as $name => $values) {
            $key = strtoupper(str_replace('-', '_', $name));
            if ($key === 'CONTENT_TYPE' || $key === 'CONTENT_LENGTH') {
                $server[$key] = implode(', ', $values);
            } else {
                $server['HTTP_' . $key] = implode(', ', $values);
            }
        }

        return $server;
    }

    /**
     * @param array<array-key, mixed> $server
     */
    private function mapRequest(Request $request, array $server): ServerRequestInterface
    {
        $psr = $this->requestFactory->createServerRequest($request->method, $request->uri, $server)
            ->withProtocolVersion(self::protocolVersion($request->protocol))
            ->withCookieParams($request->cookies)
            ->withQueryParams($request->query)
            ->withUploadedFiles($this->wrapUploads($request->uploads));

        foreach ($request->attributes as $name => $value) {
            $psr = $psr->withAttribute((string) $name, $value);
        }
        foreach ($request->headers as $name => $values) {
            $psr = $psr->withHeader($name, $values);
        }
        if (!$psr->hasHeader('Host') && isset($server['HTTP_HOST']) && $server['HTTP_HOST'] !== '') {
            // The context has no Host header (it is part of the URI); most factories add it, some don't.
            $psr = $psr->withHeader('Host', (string) $server['HTTP_HOST']);
        }
        if ($request->parsed) {
            try {
                $psr = $psr->withParsedBody($request->getParsedBody());
            } catch (\JsonException $e) {
                throw new BadRequestException('Invalid parsed body (JSON expected): ' . $e->getMessage(), 0, $e);
            }
        }
        if ($request->body !== '') {
            $psr = $psr->withBody($this->streamFactory->createStream($request->body));
        }

        return $psr;
    }

    /**
     * Turns the uploads tree into UploadedFileInterface objects, keeping its shape.
     *
     * @param array<array-key, mixed> $files
     *
     * @return array<array-key, mixed>
     */
    private function wrapUploads(array $files): array
    {
        $result = [];
        foreach ($files as $key => $file) {
            if (!is_array($file)) {
                continue;
            }
            if (!isset($file['name']) || is_array($file['name'])) {
                $result[$key] = $this->wrapUploads($file);
                continue;
            }
            $result[$key] = $this->wrapUpload($file);
        }

        return $result;
    }

    /**
     * @param array<array-key, mixed> $file {name, mime, size, error, tmpName}
     */
    private function wrapUpload(array $file): UploadedFileInterface
    {
        $error = (int) ($file['error'] ?? \UPLOAD_ERR_NO_FILE);
        $tmpName = (string) ($file['tmpName'] ?? '');
        if ($error === \UPLOAD_ERR_OK && $tmpName !== '') {
            $stream = $this->streamFactory->createStreamFromFile($tmpName, 'rb');
        } else {
            $stream = $this->streamFactory->createStream('');
            if ($error === \UPLOAD_ERR_OK) {
                $error = \UPLOAD_ERR_NO_FILE;
            }
        }

        return $this->uploadsFactory->createUploadedFile(
            $stream,
            isset($file['size']) ? (int) $file['size'] : null,
            $error,
            (string) $file['name'],
            isset($file['mime']) ? (string) $file['mime'] : null,
        );
    }

    private static function protocolVersion(string $protocol): string
    {
        $version = str_starts_with($protocol, 'HTTP/') ? substr($protocol, 5) : $protocol;
        if ($version === '2.0') {
            return '2';
        }

        return in_array($version, self::PROTOCOL_VERSIONS, true) ? $version : '1.1';
    }
}
