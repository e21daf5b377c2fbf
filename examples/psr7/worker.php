<?php

declare(strict_types=1);

// PSR-7 worker (Debian's php-nyholm-psr7): answers every request with a JSON echo of it.

use Nyholm\Psr7\Factory\Psr17Factory;
use Pivot\Worker\Http\BadRequestException;
use Pivot\Worker\Http\Psr7Worker;
use Pivot\Worker\RelayException;
use Pivot\Worker\Worker;
use Psr\Http\Message\ServerRequestInterface;

require __DIR__ . '/../../php-worker/autoload.php';

$factory = new Psr17Factory();
$worker = Worker::create();
$psr7 = new Psr7Worker($worker, $factory, $factory, $factory);

$echo = static function (ServerRequestInterface $request): string {
    return json_encode([
        'method' => $request->getMethod(),
        'uri' => (string) $request->getUri(),
        'path' => $request->getUri()->getPath(),
        'query' => (object) $request->getQueryParams(),
        'headers' => (object) $request->getHeaders(),
        'cookies' => (object) $request->getCookieParams(),
        'body' => (string) $request->getBody(),
        'parsedBody' => $request->getParsedBody(),
        'protocol' => $request->getProtocolVersion(),
    ], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);
};

while (true) {
    try {
        $request = $psr7->waitRequest();
    } catch (BadRequestException $e) {
        $worker->error((string) $e); // this request could not be decoded: fail it and keep serving
        continue;
    }
    if ($request === null) {
        break; // the server asked us to stop
    }

    try {
        $psr7->respond(
            $factory->createResponse(200)
                ->withHeader('Content-Type', 'application/json')
                ->withBody($factory->createStream($echo($request)))
        );
    } catch (RelayException $e) {
        throw $e; // the frame channel is broken: exit, the server starts a new worker
    } catch (\Throwable $e) {
        $worker->error((string) $e); // the client gets a 500, this worker keeps serving
    }
}
