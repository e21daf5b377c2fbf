<?php

declare(strict_types=1);

namespace Pivot\Worker\Http;

use Pivot\Worker\Payload;
use Pivot\Worker\Worker;

/**
 * HTTP on top of {@see Worker}: decodes the JSON request context and encodes the JSON response
 * context ({"status":…,"headers":{…}}).
 *
 *     $http = new HttpWorker(Worker::create());
 *     while ($request = $http->waitRequest()) {
 *         $http->respond(200, 'Hello', ['Content-Type' => 'text/plain']);
 *     }
 */
final class HttpWorker
{
    /** The last context encodeResponseContext() built from a well-formed header map, and its input. */
    private static int $lastStatus = 0;

    /** @var array<string, list<string>> */
    private static array $lastHeaders = [];

    private static string $lastContext = '';

    public function __construct(private readonly Worker $worker)
    {
    }

    public function getWorker(): Worker
    {
        return $this->worker;
    }

    /**
     * The next request, or null when the worker must stop.
     *
     * @throws BadRequestException when the request context is not valid JSON; the request is still
     *         pending and must be answered (e.g. with the worker's error())
     */
    public function waitRequest(): ?Request
    {
        $request = $this->worker->waitRequestParts();
        if ($request === null || ($request[0] === '' && $request[1] === '')) {
            return null;
        }

        try {
            $context = \json_decode($request[0], true, 512, \JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw new BadRequestException('Invalid HTTP request context: ' . $e->getMessage(), 0, $e);
        }
        if (!\is_array($context)) {
            throw new BadRequestException('Invalid HTTP request context: JSON object expected');
        }

        return self::createRequest($context, $request[1]);
    }

    /**
     * Sends the response, or part of a streamed one (protocol doc §2.6, §3.6).
     *
     * - A string body with $endOfStream (the default) is one complete response.
     * - A \Generator body is streamed: each yielded chunk goes out at once as a STREAM frame
     *   (the client gets `Transfer-Encoding: chunked`), then the generator's return value as the
     *   last frame. When the server stops the stream (the client went away) a
     *   {@see StreamStoppedException} is thrown into the generator at its current `yield`, so its
     *   `finally` blocks run, and the worker answers with an empty final frame.
     * - $endOfStream false with status 100–199 and an empty body sends an informational response
     *   (e.g. 103 Early Hints with a Link header); the final response follows with another respond().
     *
     * @param array<string, string|int|float|\Stringable|array<array-key, string|int|float|\Stringable>> $headers
     *        name => value or list of values; only the first frame's headers count
     *
     * @throws \JsonException when a header is not valid UTF-8
     * @throws \InvalidArgumentException for a 1xx status with a body
     */
    public function respond(int $status, string|\Generator $body = '', array $headers = [], bool $endOfStream = true): void
    {
        if ($status >= 100 && $status < 200 && $body !== '') {
            throw new \InvalidArgumentException('A response with an informational (1xx) status cannot have a body');
        }
        if ($body instanceof \Generator) {
            $this->respondStream(self::encodeResponseContext($status, $headers), $body, $endOfStream);

            return;
        }
        $this->worker->respondParts(self::encodeResponseContext($status, $headers), $body, $endOfStream);
    }

    /**
     * Mirrors spiral/roadrunner-http's HttpWorker::respondStream: the context goes with the first
     * frame only; an exception from the generator after chunks went out ends the stream with an
     * empty final frame (the request cannot be answered with an error any more).
     */
    private function respondStream(string $head, \Generator $body, bool $endOfStream): void
    {
        $worker = $this->worker;
        // The first frame goes out before the input is polled: the server sends STOP only once it
        // knows this reply is a stream, and a request pivot-server queued in our pipe behind this
        // one must stay there until the server sees the stream begin and takes it back (a request
        // read here would wait for the whole stream).
        $first = true;
        while (true) {
            if (!$body->valid()) {
                $content = (string) $body->getReturn();
                if (!$endOfStream && $content === '') {
                    return; // the stream goes on with the next respond()
                }
                $worker->respond(new Payload($head, $content, $endOfStream));

                return;
            }
            $content = (string) $body->current();
            if (!$first && $worker->isStreamStopped()) {
                $stop = new StreamStoppedException();
                try {
                    $body->throw($stop);
                } catch (StreamStoppedException) {
                    // the generator did not catch it: it ended, its finally blocks ran
                } catch (\Throwable $e) {
                    self::report('the stream generator failed after a stop', $e);
                }
                // The server discards frames until this one (no STREAM bit) arrives.
                $worker->respond(new Payload());

                return;
            }
            $worker->respond(new Payload($head, $content, false));
            $head = '';
            $first = false;
            try {
                $body->next();
            } catch (\Throwable $e) {
                self::report('the stream generator failed', $e);
                $worker->respond(new Payload());

                return;
            }
        }
    }

    private static function report(string $what, \Throwable $e): void
    {
        fwrite(\STDERR, '[pivot-worker] ' . $what . ': ' . $e::class . ': ' . $e->getMessage() . "\n");
    }

    /**
     * The JSON response context: {"status":200,"headers":{"Name":["value",…]}}, headers {} when none.
     *
     * @param array<array-key, mixed> $headers
     *
     * @throws \JsonException
     */
    public static function encodeResponseContext(int $status, array $headers = []): string
    {
        if ($headers === []) {
            return '{"status":' . $status . ',"headers":{}}';
        }
        // Most apps answer with the same few header arrays (often literals, which PHP shares, so
        // === is a pointer comparison): the last encoding is reused.
        if ($status === self::$lastStatus && $headers === self::$lastHeaders) {
            return self::$lastContext;
        }
        if (self::isHeaderMap($headers)) {
            // Already name => list of strings: encode as it is.
            $context = \json_encode(
                ['status' => $status, 'headers' => $headers],
                \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_SLASHES | \JSON_UNESCAPED_UNICODE
            );
            self::$lastStatus = $status;
            self::$lastHeaders = $headers;

            return self::$lastContext = $context;
        }
        $normalized = [];
        foreach ($headers as $name => $values) {
            $name = (string) $name;
            if ($name === '') {
                continue;
            }
            $list = [];
            foreach (\is_array($values) ? $values : [$values] as $value) {
                $list[] = \is_string($value) ? $value : self::stringify($value);
            }
            if ($list !== []) {
                $normalized[$name] = $list;
            }
        }

        return \json_encode(
            ['status' => $status, 'headers' => $normalized === [] ? new \stdClass() : $normalized],
            \JSON_THROW_ON_ERROR | \JSON_UNESCAPED_SLASHES | \JSON_UNESCAPED_UNICODE
        );
    }

    /**
     * Every request goes through here, so the common shape (what pivot-server and RoadRunner send:
     * strings, header values as lists of strings, cookies as strings) costs a few type checks;
     * anything else is normalized field by field.
     *
     * @param array<array-key, mixed> $context
     */
    private static function createRequest(array $context, string $body): Request
    {
        $uri = $context['uri'] ?? '';
        if (!\is_string($uri)) {
            $uri = self::str($uri);
        }
        $rawQuery = $context['rawQuery'] ?? '';
        if (!\is_string($rawQuery)) {
            $rawQuery = self::str($rawQuery);
        }
        $query = [];
        if ($rawQuery !== '') {
            \parse_str($rawQuery, $query);
        }
        $parsed = (bool) ($context['parsed'] ?? false);

        $headers = $context['headers'] ?? [];
        if (!\is_array($headers) || !self::isHeaderMap($headers)) {
            $headers = self::normalizeHeaders($headers);
        }
        $cookies = $context['cookies'] ?? [];
        if ($cookies !== [] && (!\is_array($cookies) || !self::isStringMap($cookies))) {
            $cookies = self::normalizeCookies($cookies);
        }
        $attributes = $context['attributes'] ?? [];
        $uploads = $context['uploads'] ?? null;
        $remoteAddr = $context['remoteAddr'] ?? '';
        $protocol = $context['protocol'] ?? 'HTTP/1.1';
        $method = $context['method'] ?? 'GET';

        return new Request(
            \is_string($remoteAddr) ? $remoteAddr : self::str($remoteAddr),
            \is_string($protocol) ? $protocol : self::str($protocol),
            \is_string($method) ? $method : self::str($method),
            $uri,
            self::pathOf($uri),
            $query,
            $rawQuery,
            $headers,
            $cookies,
            $body,
            $parsed,
            \is_array($uploads) ? $uploads : [],
            $attributes === []
                ? [Request::PARSED_BODY_ATTRIBUTE => $parsed]
                : [Request::PARSED_BODY_ATTRIBUTE => $parsed] + (\is_array($attributes) ? $attributes : (array) $attributes),
        );
    }

    /**
     * True when every name is a non-empty string and every value a non-empty list of strings.
     *
     * @param array<array-key, mixed> $headers
     */
    private static function isHeaderMap(array $headers): bool
    {
        foreach ($headers as $name => $values) {
            if (!\is_string($name) || $name === '' || !\is_array($values) || $values === [] || !\array_is_list($values)) {
                return false;
            }
            foreach ($values as $value) {
                if (!\is_string($value)) {
                    return false;
                }
            }
        }

        return true;
    }

    /**
     * @param array<array-key, mixed> $map
     */
    private static function isStringMap(array $map): bool
    {
        foreach ($map as $name => $value) {
            if (!\is_string($name) || !\is_string($value)) {
                return false;
            }
        }

        return true;
    }

    /**
     * @return array<string, string[]>
     */
    private static function normalizeHeaders(mixed $raw): array
    {
        $headers = [];
        foreach ((array) $raw as $name => $values) {
            if (!\is_string($name) || $name === '') {
                continue; // json_decode() turns numeric names into int keys; RR drops them too
            }
            $list = [];
            foreach ((array) $values as $value) {
                if (\is_scalar($value)) {
                    $list[] = (string) $value;
                }
            }
            $headers[$name] = $list;
        }

        return $headers;
    }

    /**
     * @return array<string, string>
     */
    private static function normalizeCookies(mixed $raw): array
    {
        $cookies = [];
        foreach ((array) $raw as $name => $value) {
            if (\is_array($value)) {
                $value = implode(',', array_filter($value, 'is_scalar'));
            }
            if (\is_scalar($value)) {
                $cookies[(string) $name] = (string) $value;
            }
        }

        return $cookies;
    }

    private static function pathOf(string $uri): string
    {
        // The server always sends an absolute URL: scheme "://" authority, then the path up to
        // "?" or "#" (RFC 3986 §3). Anything else goes to parse_url().
        $start = \strpos($uri, '://');
        if ($start !== false && $start > 0 && \strcspn($uri, '/?#') === $start + 1) {
            $from = $start + 3 + \strcspn($uri, '/?#', $start + 3);
            $length = \strcspn($uri, '?#', $from);

            return $length === 0 ? '/' : \substr($uri, $from, $length);
        }
        $path = parse_url($uri, \PHP_URL_PATH);
        if (!\is_string($path)) {
            // parse_url() rejects some URLs; fall back to cutting the scheme, authority and query.
            $path = preg_replace('~^[a-z][a-z0-9+.-]*://[^/?#]*~i', '', $uri) ?? '';
            $path = strtok($path, '?#');
            $path = \is_string($path) ? $path : '';
        }

        return $path === '' ? '/' : $path;
    }

    private static function str(mixed $value): string
    {
        return \is_scalar($value) ? (string) $value : '';
    }

    private static function stringify(mixed $value): string
    {
        if (is_bool($value)) {
            return $value ? '1' : '0';
        }
        if (\is_scalar($value) || $value instanceof \Stringable) {
            return (string) $value;
        }
        if ($value === null) {
            return '';
        }
        throw new \InvalidArgumentException('Header values must be strings, got ' . get_debug_type($value));
    }
}
