package io.pgha.router.routing;

import java.util.List;
import java.util.Set;

/**
 * Microbenchmark of {@link StatementClassifier} on realistic statements (pgbench's, an ORM's,
 * a JDBC application's). Run by {@code router/bench/classifier.sh}; prints nanoseconds per
 * statement after warm-up. Not a test: timing assertions would be flaky on shared machines.
 */
public final class ClassifierBenchmark {
    static final List<String> STATEMENTS = List.of(
            "SELECT abalance FROM pgbench_accounts WHERE aid = $1",
            "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2",
            "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)",
            "BEGIN",
            "END",
            "select u1_0.id,u1_0.email,u1_0.created_at,u1_0.display_name,u1_0.status from users u1_0 where u1_0.email=$1",
            "select o1_0.id,o1_0.customer_id,o1_0.total,o1_0.created_at from orders o1_0 join customers c1_0 on c1_0.id=o1_0.customer_id "
                    + "where c1_0.country=$1 and o1_0.created_at>$2 order by o1_0.created_at desc offset $3 rows fetch first $4 rows only",
            "/* app=checkout,route=/cart */ SELECT p.id, p.name, p.price, i.quantity FROM cart_items i JOIN products p ON p.id = i.product_id "
                    + "WHERE i.cart_id = $1 AND p.active ORDER BY p.name",
            "select * from jobs where state = 'queued' order by priority desc, id limit 10 for update skip locked",
            "with recent as (select customer_id, sum(total) as spent from orders where created_at > now() - interval '30 days' "
                    + "group by customer_id) select c.name, r.spent from customers c join recent r on r.customer_id = c.id order by r.spent desc limit 20",
            "insert into events (id, kind, payload, at) values (nextval('events_id_seq'), $1, $2::jsonb, now()) returning id",
            "SELECT count(*) FROM pg_stat_activity WHERE state = 'active'",
            "select current_setting('transaction_read_only'), pg_is_in_recovery()");

    public static void main(String[] args) {
        long iterations = args.length > 0 ? Long.parseLong(args[0]) : 2_000_000L;
        StatementClassifier classifier = new StatementClassifier(() -> FunctionCatalog.of(Set.of("public.audit", "app.touch")));
        String[] sql = STATEMENTS.toArray(String[]::new);
        long sink = 0;
        for (int round = 0; round < 3; round++) {
            for (long i = 0; i < iterations / 4; i++) {
                sink += classifier.classify(sql[(int) (i % sql.length)]).route().ordinal();
            }
        }
        long start = System.nanoTime();
        for (long i = 0; i < iterations; i++) {
            sink += classifier.classify(sql[(int) (i % sql.length)]).route().ordinal();
        }
        long elapsed = System.nanoTime() - start;
        int avgLength = STATEMENTS.stream().mapToInt(String::length).sum() / STATEMENTS.size();
        System.out.printf("classifier: %d statements (%d distinct, %d chars on average): %.0f ns/statement (checksum %d)%n",
                iterations, sql.length, avgLength, (double) elapsed / iterations, sink);
        for (String s : sql) {
            long t0 = System.nanoTime();
            int n = 200_000;
            for (int i = 0; i < n; i++) {
                sink += classifier.classify(s).route().ordinal();
            }
            double ns = (double) (System.nanoTime() - t0) / n;
            System.out.printf("  %6.0f ns  %-9s %s%n", ns, classifier.classify(s).route(), s.length() > 90 ? s.substring(0, 87) + "..." : s);
        }
        if (sink == 42) {
            System.out.println();
        }
    }
}
