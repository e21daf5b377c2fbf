<?php

declare(strict_types=1);

namespace Pivot\Worker;

/**
 * Keeps STDOUT clean for frames: everything the application prints through PHP's output layer
 * (echo, print, printf, var_dump, displayed errors...) is redirected to STDERR, where the server
 * logs it, instead of corrupting the frame stream. Frames are written with fwrite(STDOUT), which
 * bypasses output buffering.
 */
final class StdoutGuard
{
    private static bool $installed = false;

    /** @var resource|null */
    private static $stderr = null;

    public static function install(): void
    {
        if (self::$installed) {
            return;
        }
        self::$stderr = defined('STDERR') ? \STDERR : fopen('php://stderr', 'wb');
        // Chunk size 1: the handler runs after every write, so nothing lingers in the buffer.
        ob_start(static function (string $chunk, int $phase): string {
            if ($chunk !== '' && self::$stderr !== null) {
                fwrite(self::$stderr, $chunk);
            }

            return '';
        }, 1);
        self::$installed = true;
    }

    public static function isInstalled(): bool
    {
        return self::$installed;
    }
}
