<?php

/**
 * Autoloader for pivot/worker without Composer.
 *
 *     require __DIR__ . '/php-worker/autoload.php';
 *
 * Maps Pivot\Worker\ to src/ (PSR-4). When Debian's php-psr-http-message,
 * php-psr-http-factory and php-nyholm-psr7 packages are installed, their
 * autoloaders are registered too, so Psr\Http\Message\* and Nyholm\Psr7\* load.
 * They are optional: the core classes never touch PSR-7.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    $prefix = 'Pivot\\Worker\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
    if (is_file($file)) {
        require $file;
    }
});

(static function (): void {
    $base = '/usr/share/php';
    // Each Debian autoloader, with the files it require_once's through the include path.
    $loaders = [
        $base . '/Psr/Http/Message/autoload.php' => [],
        $base . '/Psr/Http/Message/factory-autoload.php' => ['Psr/Http/Message/autoload.php'],
        $base . '/Nyholm/Psr7/autoload.php' => [
            'Http/Message/autoload.php',
            'Psr/Http/Message/autoload.php',
            'Psr/Http/Message/factory-autoload.php',
        ],
    ];
    $includePath = get_include_path();
    set_include_path($base . PATH_SEPARATOR . $includePath);
    try {
        foreach ($loaders as $loader => $dependencies) {
            if (!is_file($loader)) {
                continue;
            }
            foreach ($dependencies as $dependency) {
                if (!is_file($base . '/' . $dependency)) {
                    continue 2;
                }
            }
            require_once $loader;
        }
    } finally {
        set_include_path($includePath);
    }
})();
