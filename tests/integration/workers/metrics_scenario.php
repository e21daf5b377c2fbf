<?php

// php-worker's Metrics\Metrics against a running pivot-server (RR_RPC must be set). Declares one
// collector of each type, records values, and tries the calls RoadRunner answers with errors.
// Prints one JSON object on stdout: {"ok": [...done...], "errors": {case: [class, message]}}.
// Usage: php metrics_scenario.php

declare(strict_types=1);

require __DIR__ . '/../../../php-worker/autoload.php';

use Pivot\Worker\Metrics\Collector;
use Pivot\Worker\Metrics\Metrics;
use Pivot\Worker\Metrics\MetricsException;

$m = Metrics::fromEnvironment();
$out = ['ok' => [], 'errors' => []];

$m->declare('php_orders', Collector::counter()->withNamespace('shop')->withHelp('Orders placed')->withLabels('country', 'channel'));
$m->declare('php_queue_depth', Collector::gauge()->withHelp('Jobs waiting'));
$m->declare('php_latency', Collector::histogram(0.1, 0.5, 1.0)->withLabels('route'));
$m->declare('php_payload', Collector::summary(['0.5' => 0.05, '0.9' => 0.01])->withLabels('kind'));
// The array form, as spiral/roadrunner-metrics' Collector::toArray() produces it.
$m->declare('php_plain', ['namespace' => '', 'subsystem' => 'app', 'type' => 'counter', 'help' => 'From an array',
    'labels' => [], 'buckets' => []]);
// A re-declare (with a different type even) succeeds and changes nothing.
$m->declare('php_orders', Collector::gauge());
$out['ok'][] = 'declared';

$m->add('php_orders', 2, ['de', 'web']);
$m->add('php_orders', 1, ['de', 'web']);
$m->add('php_orders', 5, ['fr', 'app']);
$m->set('php_queue_depth', 10);
$m->sub('php_queue_depth', 3);
$m->add('php_queue_depth', 0.5);
$m->observe('php_latency', 0.05, ['/a']);
$m->observe('php_latency', 0.7, ['/a']);
$m->observe('php_latency', 3, ['/a']);
foreach ([1, 2, 3, 4, 100] as $v) {
    $m->observe('php_payload', $v, ['json']);
}
$m->add('php_plain', 4);
$out['ok'][] = 'recorded';

// A collector removed and its series gone.
$m->declare('php_temp', Collector::gauge());
$m->set('php_temp', 1);
$m->unregister('php_temp');
$out['ok'][] = 'unregistered';

$try = static function (string $case, callable $fn) use (&$out): void {
    try {
        $fn();
        $out['errors'][$case] = null;
    } catch (MetricsException $e) {
        $out['errors'][$case] = [get_class($e), $e->getMessage(), $e->getMethod()];
    }
};
$try('unknown_type', static fn () => $m->declare('bad', ['type' => 'meter']));
$try('undefined', static fn () => $m->add('nope', 1));
$try('missing_labels', static fn () => $m->add('php_orders', 1));
$try('sub_counter', static fn () => $m->sub('php_orders', 1, ['de', 'web']));
$try('observe_gauge', static fn () => $m->observe('php_queue_depth', 1));
$try('unregister_twice', static fn () => $m->unregister('php_temp'));
$try('bad_name', static fn () => $m->declare('9lives', Collector::counter()));

echo json_encode($out, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), "\n";
