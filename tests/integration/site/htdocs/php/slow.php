<?php
// Served by php-fpm through mod_proxy_fcgi in the integration tests.
usleep(200000);
header('Content-Type: text/plain');
echo "php slept 0.2 s\n";
