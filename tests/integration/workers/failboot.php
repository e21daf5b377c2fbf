<?php

// A worker that dies during boot, before the handshake: the pool must back off, never spin.
declare(strict_types=1);

fwrite(STDERR, "PHP Fatal error: failboot fixture cannot connect to its database\n");
exit(255);
