<?php

declare(strict_types=1);

namespace Pivot\Worker\Metrics;

use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\ServiceException;

/**
 * Application metrics on pivot-server's (or RoadRunner's) Prometheus endpoint, over the goridge
 * RPC with the JSON codec (roadrunner-protocol.md §5.4), as spiral/roadrunner-metrics does:
 *
 *     $metrics = Metrics::fromEnvironment();
 *     $metrics->declare('orders', Collector::counter()->withLabels('country'));
 *     $metrics->add('orders', 1, ['de']);          // orders{country="de"} on /metrics
 *
 * Collectors can also be declared in the server's config under `metrics.collect.<name>`.
 * Declaring a name that exists already is not an error (nothing changes). Errors the server
 * answers become {@see MetricsException} with its text verbatim ("metrics_plugin_add: required
 * labels for collector orders", "… undefined collector x …", "… unknown collector type x");
 * an unreachable server is a {@see \Pivot\Worker\Rpc\RpcException}.
 */
final class Metrics
{
    private readonly Client $rpc;

    /** @param Client $rpc a client for the server's rpc.listen address */
    public function __construct(Client $rpc)
    {
        $this->rpc = $rpc->withServicePrefix('metrics');
    }

    /** Metrics over Client::fromEnvironment() (RR_RPC, which the server sets for its workers). */
    public static function fromEnvironment(): self
    {
        return new self(Client::fromEnvironment());
    }

    /**
     * Declares a collector. A name that already exists succeeds and keeps its first definition.
     *
     * @param Collector|array<string, mixed> $collector a Collector, or an array with its toArray() keys
     */
    public function declare(string $name, Collector|array $collector): void
    {
        if (is_array($collector)) {
            $collector = Collector::fromArray($collector);
        }
        try {
            $this->rpc->call('Declare', ['name' => $name, 'collector' => $collector->toArray()]);
        } catch (ServiceException $e) {
            // RoadRunner releases before 2024 answered a re-declare with this error; it means success.
            if (str_contains($e->getServerError(), 'tried to register existing collector')) {
                return;
            }
            throw self::wrap($e);
        }
    }

    /**
     * Adds $value to a counter or a gauge.
     *
     * @param array<array-key, string|int|float> $labels one value per declared label, in order
     */
    public function add(string $name, float $value, array $labels = []): void
    {
        $this->call('Add', $name, $value, $labels);
    }

    /**
     * Subtracts $value from a gauge.
     *
     * @param array<array-key, string|int|float> $labels
     */
    public function sub(string $name, float $value, array $labels = []): void
    {
        $this->call('Sub', $name, $value, $labels);
    }

    /**
     * Sets a gauge to $value.
     *
     * @param array<array-key, string|int|float> $labels
     */
    public function set(string $name, float $value, array $labels = []): void
    {
        $this->call('Set', $name, $value, $labels);
    }

    /**
     * Records $value in a histogram, or in a summary (summaries need labels).
     *
     * @param array<array-key, string|int|float> $labels
     */
    public function observe(string $name, float $value, array $labels = []): void
    {
        $this->call('Observe', $name, $value, $labels);
    }

    /** Removes a collector and all its series from the endpoint. */
    public function unregister(string $name): void
    {
        try {
            $this->rpc->call('Unregister', $name);
        } catch (ServiceException $e) {
            throw self::wrap($e);
        }
    }

    /**
     * @param array<array-key, string|int|float> $labels
     */
    private function call(string $method, string $name, float $value, array $labels): void
    {
        $labels = array_map(static fn (string|int|float $v): string => (string) $v, array_values($labels));
        try {
            $this->rpc->call($method, ['name' => $name, 'value' => $value, 'labels' => $labels]);
        } catch (ServiceException $e) {
            throw self::wrap($e);
        }
    }

    private static function wrap(ServiceException $e): MetricsException
    {
        return new MetricsException($e->getServerError(), $e->getMethod(), $e);
    }
}
