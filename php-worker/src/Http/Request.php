<?php

declare(strict_types=1);

namespace Pivot\Worker\Http;

/**
 * One HTTP request as decoded from the server's JSON request context.
 */
final class Request
{
    /** Attribute that carries the "parsed" flag, as RoadRunner's SDK sets it. */
    public const PARSED_BODY_ATTRIBUTE = 'rr_parsed_body';

    /**
     * @param string                  $remoteAddr client IP, no port
     * @param string                  $protocol   e.g. "HTTP/1.1"
     * @param string                  $method     e.g. "GET"
     * @param string                  $uri        full URL, with scheme and host
     * @param string                  $path       path part of $uri ("/" when empty)
     * @param array<array-key, mixed> $query      $rawQuery decoded with parse_str()
     * @param string                  $rawQuery   query string without "?"
     * @param array<string, string[]> $headers    name => values (Host is not among them)
     * @param array<string, string>   $cookies    name => value
     * @param string                  $body       raw body, or the JSON of the parsed form when $parsed
     * @param bool                    $parsed     the server parsed a form body into JSON
     * @param array<array-key, mixed> $uploads    uploaded files tree (name, mime, size, error, tmpName)
     * @param array<string, mixed>    $attributes request attributes
     */
    public function __construct(
        public readonly string $remoteAddr = '127.0.0.1',
        public readonly string $protocol = 'HTTP/1.1',
        public readonly string $method = 'GET',
        public readonly string $uri = 'http://localhost/',
        public readonly string $path = '/',
        public readonly array $query = [],
        public readonly string $rawQuery = '',
        public readonly array $headers = [],
        public readonly array $cookies = [],
        public readonly string $body = '',
        public readonly bool $parsed = false,
        public readonly array $uploads = [],
        public readonly array $attributes = [],
    ) {
    }

    /**
     * First value of a header (case-insensitive name), or null.
     */
    public function header(string $name): ?string
    {
        if (isset($this->headers[$name][0])) {
            return $this->headers[$name][0];
        }
        foreach ($this->headers as $key => $values) {
            if (strcasecmp((string) $key, $name) === 0 && isset($values[0])) {
                return $values[0];
            }
        }

        return null;
    }

    /**
     * The parsed form (JSON-decoded body) when the server parsed it, otherwise null.
     *
     * @return array<array-key, mixed>|null
     *
     * @throws \JsonException
     */
    public function getParsedBody(): ?array
    {
        if (!$this->parsed) {
            return null;
        }
        if ($this->body === '') {
            return [];
        }

        return (array) json_decode($this->body, true, 512, \JSON_THROW_ON_ERROR);
    }
}
