-- Runs once, on an empty data volume, after the image created MYSQL_USER (promo).
-- Each service has its own database promo_<service>; `promo migrate <service>` creates it
-- (CREATE DATABASE IF NOT EXISTS), so the app user may create and use any promo_* database.
GRANT ALL PRIVILEGES ON `promo\_%`.* TO 'promo'@'%';
