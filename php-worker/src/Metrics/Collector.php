<?php

declare(strict_types=1);

namespace Pivot\Worker\Metrics;

/**
 * The definition of an application metric for {@see Metrics::declare()}: the `collector` object of
 * RPC metrics.Declare (roadrunner-protocol.md §5.4). Immutable; the with*() methods return copies.
 *
 *     Collector::counter()->withHelp('Orders placed')->withLabels('country');
 *     Collector::histogram(0.1, 0.5, 1.0)->withNamespace('shop');
 *     Collector::summary(['0.5' => 0.05, '0.99' => 0.001])->withLabels('kind');
 *
 * The metric's full name is namespace_subsystem_name (empty parts are skipped). With labels the
 * metric is a vector and every add/sub/set/observe must give one value per label.
 */
final class Collector
{
    public const COUNTER = 'counter';
    public const GAUGE = 'gauge';
    public const HISTOGRAM = 'histogram';
    public const SUMMARY = 'summary';

    private string $namespace = '';

    private string $subsystem = '';

    private string $help = '';

    /** @var list<string> */
    private array $labels = [];

    /** @var list<float> */
    private array $buckets = [];

    /** @var array<string, float> quantile (as a string: PHP array keys cannot be floats) => allowed error */
    private array $objectives = [];

    private function __construct(public readonly string $type)
    {
    }

    /** A counter: only goes up (add). */
    public static function counter(): self
    {
        return new self(self::COUNTER);
    }

    /** A gauge: add, sub and set. */
    public static function gauge(): self
    {
        return new self(self::GAUGE);
    }

    /** A histogram with these bucket upper bounds (none: Prometheus' defaults .005 … 10). */
    public static function histogram(float ...$buckets): self
    {
        $self = new self(self::HISTOGRAM);
        $self->buckets = array_values($buckets);

        return $self;
    }

    /**
     * A summary with these objectives, as ['0.5' => 0.05, '0.99' => 0.001] or [[0.5, 0.05], …].
     * The server observes summaries only with labels (as RoadRunner does): add withLabels().
     *
     * @param array<array-key, float|array{0: float, 1: float}> $objectives
     */
    public static function summary(array $objectives = []): self
    {
        $self = new self(self::SUMMARY);
        foreach ($objectives as $quantile => $error) {
            if (is_array($error)) {
                [$quantile, $error] = array_values($error) + [null, null];
            }
            if (!is_numeric($quantile) || !is_numeric($error)) {
                throw new \InvalidArgumentException(
                    "Summary objectives map quantiles to allowed errors, e.g. ['0.5' => 0.05]; got " . var_export([$quantile => $error], true)
                );
            }
            $self->objectives[(string) (float) $quantile] = (float) $error;
        }

        return $self;
    }

    /** Builds a collector from an array with the keys of {@see toArray()} (type is required). */
    public static function fromArray(array $collector): self
    {
        $type = $collector['type'] ?? null;
        if (!in_array($type, [self::COUNTER, self::GAUGE, self::HISTOGRAM, self::SUMMARY], true)) {
            // Sent as it is: the server answers "unknown collector type …".
            $self = new self(is_string($type) ? $type : '');
        } else {
            $self = new self($type);
        }
        $self->namespace = (string) ($collector['namespace'] ?? '');
        $self->subsystem = (string) ($collector['subsystem'] ?? '');
        $self->help = (string) ($collector['help'] ?? '');
        $self->labels = array_map('strval', array_values((array) ($collector['labels'] ?? [])));
        $self->buckets = array_map('floatval', array_values((array) ($collector['buckets'] ?? [])));
        if (isset($collector['objectives'])) {
            $self->objectives = self::summary((array) $collector['objectives'])->objectives;
        }

        return $self;
    }

    public function withNamespace(string $namespace): self
    {
        $self = clone $this;
        $self->namespace = $namespace;

        return $self;
    }

    public function withSubsystem(string $subsystem): self
    {
        $self = clone $this;
        $self->subsystem = $subsystem;

        return $self;
    }

    public function withHelp(string $help): self
    {
        $self = clone $this;
        $self->help = $help;

        return $self;
    }

    public function withLabels(string ...$labels): self
    {
        $self = clone $this;
        $self->labels = array_values($labels);

        return $self;
    }

    /**
     * The JSON shape the server expects; `objectives` is an object keyed by quantile.
     *
     * @return array{namespace: string, subsystem: string, type: string, help: string, labels: list<string>,
     *               buckets: list<float>, objectives?: \stdClass}
     */
    public function toArray(): array
    {
        $out = [
            'namespace' => $this->namespace,
            'subsystem' => $this->subsystem,
            'type' => $this->type,
            'help' => $this->help,
            'labels' => $this->labels,
            'buckets' => $this->buckets,
        ];
        if ($this->objectives !== []) {
            $out['objectives'] = (object) $this->objectives;
        }

        return $out;
    }
}
