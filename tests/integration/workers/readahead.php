<?php

/**
 * A worker that reads its stdin the way the RoadRunner SDK's StreamRelay does: through PHP's
 * buffered stream (8 KiB reads, so it may pull a following frame into its buffer) and with a pid
 * reply of only {"pid":N}. pivot-server must never pipeline requests onto it.
 * Routes: /pid answers the pid; /sleep?ms=N sleeps first.
 */

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Frame;

function readExactly(int $length): ?string
{
    $data = '';
    while (strlen($data) < $length) {
        $chunk = fread(STDIN, $length - strlen($data));
        if ($chunk === false || $chunk === '') {
            return null;
        }
        $data .= $chunk;
    }

    return $data;
}

function send(int $flags, array $options, string $payload): void
{
    fwrite(STDOUT, Frame::encodeParts($flags, $options, $payload));
}

while (($header = readExactly(Frame::HEADER_SIZE)) !== null) {
    $h = Frame::decodeHeader($header);
    $rest = readExactly($h['optionCount'] * 4 + $h['payloadLength']) ?? exit(0);
    $payload = substr($rest, $h['optionCount'] * 4);
    if (($h['flags'] & Frame::CONTROL) !== 0) {
        $command = json_decode($payload, true, 16, JSON_THROW_ON_ERROR);
        if (!empty($command['stop'])) {
            exit(0);
        }
        send(Frame::CONTROL, [], json_encode(['pid' => getmypid()], JSON_THROW_ON_ERROR));
        continue;
    }
    $contextLength = unpack('V', $rest)[1];
    $context = json_decode(substr($payload, 0, $contextLength), true, 64, JSON_THROW_ON_ERROR);
    parse_str($context['rawQuery'] ?? '', $q);
    if ($context['uri'] !== '' && str_contains($context['uri'], '/sleep')) {
        usleep(((int) ($q['ms'] ?? 100)) * 1000);
    }
    $response = json_encode(['status' => 200, 'headers' => new stdClass()], JSON_THROW_ON_ERROR);
    send(Frame::CODEC_JSON, [strlen($response)], $response . getmypid());
}
