<?php

declare(strict_types=1);

namespace Pivot\Worker\Jobs;

/**
 * The reply types a consumer sends for a task (roadrunner-protocol.md §4.2): the `type` of the
 * reply body `{"type":T,"data":D}`.
 */
final class Type
{
    /** Deprecated success reply (ReceivedTask::complete()); the server acks. */
    public const SUCCESS = 0;

    /** Deprecated error reply (ReceivedTask::fail()); the server requeues when asked, else acks. */
    public const ERROR = 1;

    /** The job is done; the server acks it. */
    public const ACK = 2;

    /** The job failed; the server nacks it, with redelivery when asked (driver permitting). */
    public const NACK = 3;

    /** The job goes back to its pipeline, with the task's headers and delay. */
    public const REQUEUE = 4;

    private function __construct()
    {
    }
}
