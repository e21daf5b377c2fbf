<?php

declare(strict_types=1);

namespace Pivot\Worker\Tests\Unit\Metrics;

use PHPUnit\Framework\TestCase;
use Pivot\Worker\Metrics\Collector;
use Pivot\Worker\Metrics\Metrics;
use Pivot\Worker\Metrics\MetricsException;
use Pivot\Worker\Rpc\Client;
use Pivot\Worker\Rpc\RpcException;
use Pivot\Worker\Tests\Support\FakeRpcServer;

/**
 * Metrics\Metrics and Metrics\Collector against tests/Fixtures/fake_rpc_server.php, whose metrics.*
 * methods answer true or RoadRunner's error texts; the exact request frames are checked. The real
 * server is covered by tests/integration/metrics_test.cpp.
 */
final class MetricsTest extends TestCase
{
    private static ?FakeRpcServer $server = null;

    private Client $client;

    public static function setUpBeforeClass(): void
    {
        self::$server = new FakeRpcServer();
    }

    public static function tearDownAfterClass(): void
    {
        $stderr = self::$server?->stop();
        self::$server = null;
        self::assertSame('', $stderr, 'the fake server saw only valid requests');
    }

    protected function setUp(): void
    {
        $this->client = new Client((string) self::$server?->address);
    }

    /**
     * The request the fake server received before this call: [flags, method, raw JSON argument].
     *
     * @return array{0: int, 1: string, 2: string}
     */
    private function lastRequest(): array
    {
        $frame = (string) hex2bin((string) $this->client->call('test.LastRequest', null));
        $options = unpack('V2', substr($frame, 12, 8));
        $payload = substr($frame, 20);

        return [ord($frame[1]), substr($payload, 0, $options[2]), substr($payload, $options[2])];
    }

    public function testValueMethodsSendRoadRunnersJsonShape(): void
    {
        $m = new Metrics($this->client);
        $cases = [
            'Add' => static fn () => $m->add('hits', 2, ['/a', 404]),
            'Sub' => static fn () => $m->sub('hits', 0.5, ['route' => '/a', 'code' => 404]),
            'Set' => static fn () => $m->set('hits', -3),
            'Observe' => static fn () => $m->observe('hits', 1e-3, ['x']),
        ];
        $expected = [
            'Add' => '{"name":"hits","value":2.0,"labels":["/a","404"]}',
            'Sub' => '{"name":"hits","value":0.5,"labels":["/a","404"]}',
            'Set' => '{"name":"hits","value":-3.0,"labels":[]}',
            'Observe' => '{"name":"hits","value":0.001,"labels":["x"]}',
        ];
        foreach ($cases as $method => $call) {
            $call();
            [$flags, $sent, $arg] = $this->lastRequest();
            self::assertSame(0x08, $flags, 'JSON codec');
            self::assertSame("metrics.$method", $sent);
            self::assertSame($expected[$method], $arg, $method);
        }
    }

    public function testDeclareSendsTheCollectorObject(): void
    {
        $m = new Metrics($this->client);
        $m->declare('orders', Collector::counter()->withNamespace('shop')->withSubsystem('api')->withHelp('Orders')
            ->withLabels('country', 'channel'));
        [, $method, $arg] = $this->lastRequest();
        self::assertSame('metrics.Declare', $method);
        self::assertSame(
            '{"name":"orders","collector":{"namespace":"shop","subsystem":"api","type":"counter","help":"Orders",'
            . '"labels":["country","channel"],"buckets":[]}}',
            $arg
        );

        $m->declare('latency', Collector::histogram(0.1, 1, 5));
        self::assertStringContainsString('"type":"histogram","help":"","labels":[],"buckets":[0.1,1.0,5.0]', $this->lastRequest()[2]);

        $m->declare('sizes', Collector::summary(['0.5' => 0.05, '0.99' => 0.001])->withLabels('kind'));
        $arg = $this->lastRequest()[2];
        self::assertStringContainsString('"type":"summary"', $arg);
        self::assertStringContainsString('"objectives":{"0.5":0.05,"0.99":0.001}', $arg);

        $m->declare('pairs', Collector::summary([[0.9, 0.01], [1, 0.0]])->withLabels('kind'));
        self::assertStringContainsString('"objectives":{"0.9":0.01,"1":0.0}', $this->lastRequest()[2]);

        // The array form spiral/roadrunner-metrics' Collector::toArray() produces.
        $m->declare('plain', ['type' => 'gauge', 'help' => 'h', 'labels' => ['a']]);
        self::assertStringContainsString('"collector":{"namespace":"","subsystem":"","type":"gauge","help":"h","labels":["a"]', $this->lastRequest()[2]);
    }

    public function testUnregisterSendsTheNameAsAJsonString(): void
    {
        (new Metrics($this->client))->unregister('orders');
        self::assertSame([0x08, 'metrics.Unregister', '"orders"'], $this->lastRequest());
    }

    public function testServerErrorsBecomeMetricsExceptionsWithTheServersText(): void
    {
        $m = new Metrics($this->client);
        $cases = [
            'metrics.Add' => [static fn () => $m->add('nope', 1), 'metrics_plugin_add: undefined collector nope'],
            'metrics.Observe' => [static fn () => $m->observe('nope', 1), 'metrics_plugin_observe: undefined collector nope'],
            'metrics.Unregister' => [static fn () => $m->unregister('nope'), 'metrics_plugin_unregister: undefined collector nope'],
            'metrics.Declare' => [static fn () => $m->declare('x', ['type' => 'meter']), 'metrics_plugin_declare: unknown collector type meter'],
        ];
        foreach ($cases as $method => [$call, $text]) {
            try {
                $call();
                self::fail("$method did not throw");
            } catch (MetricsException $e) {
                self::assertSame($text, $e->getMessage());
                self::assertSame($method, $e->getMethod());
            }
        }
        $m->add('hits', 1);  // the connection still serves
        self::assertSame('metrics.Add', $this->lastRequest()[1]);
    }

    public function testAnOldRoadRunnersReDeclareErrorIsSuccess(): void
    {
        (new Metrics($this->client))->declare('dup', Collector::gauge());
        self::assertSame('metrics.Declare', $this->lastRequest()[1]);
    }

    public function testAnUnreachableServerIsAnRpcException(): void
    {
        $this->expectException(RpcException::class);
        (new Metrics(new Client('tcp://127.0.0.1:1', 0.5)))->add('x', 1);
    }

    public function testSummaryObjectivesMustBeNumbers(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        Collector::summary(['median' => 0.05]);
    }

    public function testCollectorIsImmutable(): void
    {
        $base = Collector::gauge();
        $labelled = $base->withLabels('a');
        self::assertSame([], $base->toArray()['labels']);
        self::assertSame(['a'], $labelled->toArray()['labels']);
        self::assertSame('gauge', $labelled->type);
        self::assertArrayNotHasKey('objectives', $labelled->toArray());
    }
}
