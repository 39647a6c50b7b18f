-- The demo shop for `scripts/start.sh`: a small schema with the seed runbook's incidents
-- staged in it. What needs a live session (idle connections, the idle-in-transaction session
-- pinning the horizon, the lock chain, the slow report) is done by scripts/demo/sessions.py
-- afterwards.
-- Run with psql -v ON_ERROR_STOP=1 against a throwaway database.
\set QUIET on
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;

CREATE TABLE categories (
  id   serial PRIMARY KEY,
  name text NOT NULL UNIQUE
);
CREATE TABLE products (
  id          serial PRIMARY KEY,
  category_id int,
  sku         text NOT NULL,
  name        text NOT NULL,
  price       numeric(10,2) NOT NULL
);
CREATE TABLE customers (
  id         serial PRIMARY KEY,
  email      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE orders (
  id          serial PRIMARY KEY,
  customer_id int NOT NULL REFERENCES customers(id),
  status      text NOT NULL DEFAULT 'new',
  total       numeric(12,2) NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE order_items (
  order_id   int NOT NULL REFERENCES orders(id),
  product_id int NOT NULL REFERENCES products(id),
  quantity   int NOT NULL,
  price      numeric(10,2) NOT NULL,
  PRIMARY KEY (order_id, product_id)
);
-- Cart events are written and deleted all day long: the table the stuck transaction bloats.
CREATE TABLE cart_events (
  id          bigserial PRIMARY KEY,
  customer_id int NOT NULL,
  product_id  int NOT NULL,
  kind        text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);

INSERT INTO categories (name) SELECT unnest(ARRAY['Books', 'Garden', 'Kitchen', 'Toys', 'Audio', 'Outdoor']);
INSERT INTO products (category_id, sku, name, price)
  SELECT 1 + g % 6, 'SKU-' || lpad(g::text, 5, '0'), 'Product ' || g, (5 + g % 200)::numeric + 0.99
  FROM generate_series(1, 2000) g;
INSERT INTO customers (email, created_at)
  SELECT 'customer' || g || '@example.com', now() - (g || ' minutes')::interval FROM generate_series(1, 5000) g;
INSERT INTO orders (customer_id, status, total, created_at)
  SELECT 1 + g % 5000, (ARRAY['new', 'paid', 'shipped', 'delivered'])[1 + g % 4], 0, now() - (g || ' seconds')::interval
  FROM generate_series(1, 20000) g;
INSERT INTO order_items (order_id, product_id, quantity, price)
  SELECT o, 1 + (o * 7 + k) % 2000, 1 + k, 9.99 FROM generate_series(1, 20000) o, generate_series(0, 1) k;
UPDATE orders o SET total = s.t FROM (SELECT order_id, sum(quantity * price) t FROM order_items GROUP BY 1) s WHERE s.order_id = o.id;
INSERT INTO cart_events (customer_id, product_id, kind)
  SELECT 1 + g % 5000, 1 + g % 2000, (ARRAY['add', 'remove', 'view'])[1 + g % 3] FROM generate_series(1, 20000) g;

-- Incident: an orphaned foreign key. A cleanup job deleted the "Outdoor" category while
-- products still pointed at it; the foreign key was then added NOT VALID so the deploy went
-- through, and nobody validated it.
DELETE FROM categories WHERE name = 'Outdoor';
ALTER TABLE products ADD CONSTRAINT fk_products_category FOREIGN KEY (category_id) REFERENCES categories(id) NOT VALID;

-- Incident: a failed Prisma migration. Prisma's bookkeeping table, with the last migration
-- started but never finished; it left its table half-built behind it.
CREATE TABLE "_prisma_migrations" (
  id                  varchar(36) PRIMARY KEY,
  checksum            varchar(64) NOT NULL,
  finished_at         timestamptz,
  migration_name      varchar(255) NOT NULL,
  logs                text,
  rolled_back_at      timestamptz,
  started_at          timestamptz NOT NULL DEFAULT now(),
  applied_steps_count integer NOT NULL DEFAULT 0
);
INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, logs, started_at, applied_steps_count) VALUES
  ('0b6f7c1e-3d0a-4f43-9a51-6d3f1b2c0001', md5('init') || md5('init'), now() - interval '30 days', '20251001_init', NULL, now() - interval '30 days', 1),
  ('0b6f7c1e-3d0a-4f43-9a51-6d3f1b2c0002', md5('cart') || md5('cart'), now() - interval '9 days', '20251022_cart_events', NULL, now() - interval '9 days', 1),
  ('0b6f7c1e-3d0a-4f43-9a51-6d3f1b2c0003', md5('analytics') || md5('analytics'), NULL, '20251031_add_analytics_table',
   E'Database error code: 23505\n\nDatabase error:\nERROR: could not create unique index "analytics_events_session_id_key"\nDETAIL: Key (session_id)=(s-42) is duplicated.',
   now() - interval '20 minutes', 0);
CREATE TABLE analytics_events (
  id         bigserial PRIMARY KEY,
  session_id text NOT NULL,
  payload    jsonb
);
INSERT INTO analytics_events (session_id, payload) SELECT 's-' || (g % 500), '{}' FROM generate_series(1, 3000) g;

-- Incident: an invalid index. The same migration's CREATE UNIQUE INDEX CONCURRENTLY failed on
-- duplicates and left the index behind, INVALID: written to on every insert, never used.
\set ON_ERROR_STOP off
\set VERBOSITY terse
CREATE UNIQUE INDEX CONCURRENTLY analytics_events_session_id_key ON analytics_events (session_id);
\set ON_ERROR_STOP on

-- (The slow query recorded in pg_stat_statements is run by sessions.py, while it stages the rest.)
SELECT pg_stat_statements_reset() \g /dev/null
-- The statistics of the inserts first, so VACUUM's counts are the last word.
SELECT pg_stat_force_next_flush() \g /dev/null
VACUUM ANALYZE;
