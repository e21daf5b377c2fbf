<?php

// php-worker's KV\Storage against a running pivot-server (RR_RPC must be set). Prints one JSON
// object on stdout. Usage:
//   php kv_scenario.php scenario <storage>            every Storage method; results by name
//   php kv_scenario.php ttl <storage>                 a 1 s TTL: present, then gone after 1.5 s
//   php kv_scenario.php bulk <storage> <id> <count>   sets <count> keys bulk:<id>:<i>, reads them back
//   php kv_scenario.php get|set|has <storage> <key> [value]   one call; errors as {"error_class","error"}

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\KV\Storage;

[, $mode, $name] = $argv + [null, null, null];
$kv = Storage::fromEnvironment((string) $name);
$out = [];

try {
    switch ($mode) {
        case 'scenario':
            $kv->clear();
            $out['set'] = $kv->set('str', 'hello');
            $kv->set('arr', ['a' => 1, 'n' => [1.5, true, null]]);
            $kv->set('int', 42);
            $kv->set('bin', "\x00\xff binary \u{00fc}");
            $kv->set('obj', new ArrayObject([1, 2]));
            $out['get_str'] = $kv->get('str');
            $out['get_arr'] = $kv->get('arr');
            $out['get_int'] = $kv->get('int');
            $out['get_bin_hex'] = bin2hex($kv->get('bin'));
            $out['get_obj_class'] = get_class($kv->get('obj'));
            $out['get_missing'] = $kv->get('missing', 'dflt');
            $out['has_str'] = $kv->has('str');
            $out['has_missing'] = $kv->has('missing');
            $out['get_multiple'] = $kv->getMultiple(['str', 'missing', 'int'], 'd');
            $out['set_multiple'] = $kv->setMultiple(['m1' => 1, 'm2' => 2, '3' => 'three'], 3600);
            $out['get_numeric_key'] = $kv->get('3');
            $out['ttl_m1_seconds'] = $kv->getTtl('m1')?->getTimestamp() - time();
            $out['ttl_str'] = $kv->getTtl('str');
            $out['ttl_missing'] = $kv->getTtl('missing');
            $out['multiple_ttl'] = array_map(
                static fn (?DateTimeImmutable $d) => $d?->format(DATE_RFC3339),
                $kv->getMultipleTtl(['m1', 'str'])
            );
            $out['expire'] = $kv->expire('str', 120);
            $out['ttl_str_after_expire_seconds'] = $kv->getTtl('str')?->getTimestamp() - time();
            $kv->expire(['missing'], 60);
            $out['has_missing_after_expire'] = $kv->has('missing');
            $out['delete'] = $kv->delete('int');
            $out['has_int_after_delete'] = $kv->has('int');
            $out['delete_multiple'] = $kv->deleteMultiple(['m1', 'm2']);
            $out['after_delete_multiple'] = $kv->getMultiple(['m1', 'm2', '3']);
            $kv->set('zero', 'x', 0);
            $kv->set('neg', 'x');
            $kv->set('neg', 'y', -5);
            $out['has_zero_ttl'] = $kv->has('zero');
            $out['has_negative_ttl'] = $kv->has('neg');
            $kv->set('interval', 'x', new DateInterval('PT1H'));
            $out['ttl_interval_seconds'] = $kv->getTtl('interval')?->getTimestamp() - time();
            $kv->withSerializer('json_encode', static fn (string $b) => json_decode($b, true))->set('json', ['x' => 1]);
            $out['raw_json'] = $kv->withSerializer(static fn ($v) => $v, static fn (string $b) => $b)->get('json');
            $out['clear'] = $kv->clear();
            $out['has_after_clear'] = $kv->has('str') || $kv->has('arr') || $kv->has('3');
            break;

        case 'ttl':
            $kv->set('short', 'v', 1);
            $kv->set('long', 'v', 60);
            $out['has_before'] = $kv->has('short');
            $out['get_before'] = $kv->get('short');
            usleep(1_500_000);
            $out['has_after'] = $kv->has('short');
            $out['get_after'] = $kv->get('short', 'expired');
            $out['ttl_after'] = $kv->getTtl('short');
            $out['long_after'] = $kv->get('long');
            break;

        case 'bulk':
            $id = (int) $argv[3];
            $count = (int) $argv[4];
            $value = static fn (int $i): array => ['id' => $id, 'i' => $i, 'pad' => str_repeat('x', $i % 64)];
            for ($i = 0; $i < $count; $i++) {
                $kv->set("bulk:$id:$i", $value($i));
            }
            $ok = 0;
            $bad = [];
            foreach (array_chunk(range(0, $count - 1), 250) as $chunk) {
                $values = $kv->getMultiple(array_map(static fn (int $i) => "bulk:$id:$i", $chunk));
                foreach ($chunk as $i) {
                    if ($values["bulk:$id:$i"] === $value($i)) {
                        $ok++;
                    } else {
                        $bad[] = $i;
                    }
                }
            }
            for ($i = 0; $i < $count; $i += 100) {
                if ($kv->get("bulk:$id:$i") !== $value($i)) {
                    $bad[] = "get:$i";
                }
            }
            $out = ['written' => $count, 'read_ok' => $ok, 'bad' => array_slice($bad, 0, 10)];
            break;

        case 'get':
            $out = ['value' => $kv->get((string) $argv[3], 'MISSING')];
            break;
        case 'set':
            $out = ['ok' => $kv->set((string) $argv[3], (string) $argv[4])];
            break;
        case 'has':
            $out = ['has' => $kv->has((string) $argv[3])];
            break;
        default:
            fwrite(STDERR, "unknown mode $mode\n");
            exit(2);
    }
} catch (Throwable $e) {
    $out = ['error_class' => get_class($e), 'error' => $e->getMessage()];
    if ($e instanceof Pivot\Worker\KV\KvException) {
        $out['method'] = $e->getMethod();
    }
}

echo json_encode($out, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION), "\n";
