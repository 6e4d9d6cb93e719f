package io.pgha.router.routing;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classifier against a table of statements (src/test/resources/classifier-cases.txt), each
 * also wrapped in comments and whitespace, plus every built-in of the primary lists in several
 * positions.
 */
class StatementClassifierTest {

    static final FunctionCatalog CATALOG = FunctionCatalog.of(Set.of("public.bump_counter", "app.touch", "app.MixedCase"));
    private final StatementClassifier classifier = new StatementClassifier(() -> CATALOG);

    record Case(Route route, Reason reason, boolean session, boolean discard, String sql) {
    }

    static List<Case> cases() throws IOException {
        List<Case> cases = new ArrayList<>();
        try (InputStream in = StatementClassifierTest.class.getResourceAsStream("/classifier-cases.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String line : text.split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int sep = line.indexOf(" :: ");
                String[] head = line.substring(0, sep).trim().split("\\s+");
                String sql = line.substring(sep + 4).replace("\\n", "\n");
                Route route = head[0].equals("P") ? Route.PRIMARY : Route.STANDBY_OK;
                Set<String> flags = Set.of(head).stream().skip(0).collect(java.util.stream.Collectors.toSet());
                cases.add(new Case(route, Reason.valueOf(head[1]), flags.contains("session"), flags.contains("discard"), sql));
            }
        }
        return cases;
    }

    private void check(Case c, String sql) {
        Classification got = classifier.classify(sql);
        String where = "for [" + sql + "]: " + got;
        assertEquals(c.route(), got.route(), where);
        assertEquals(c.reason(), got.reason(), where);
        assertEquals(c.session(), got.sessionState(), where);
        assertEquals(c.discard(), got.discardsSession(), where);
    }

    @TestFactory
    Stream<DynamicTest> tableOfStatements() throws IOException {
        List<Case> cases = cases();
        assertTrue(cases.size() > 300, "table has " + cases.size() + " statements");
        return cases.stream().flatMap(c -> Stream.of(
                DynamicTest.dynamicTest("plain: " + c.sql(), () -> check(c, c.sql())),
                DynamicTest.dynamicTest("commented: " + c.sql(), () -> check(c, "/* app:web */ " + c.sql())),
                DynamicTest.dynamicTest("padded: " + c.sql(), () -> check(c, "\n\t " + c.sql() + " \n"))));
    }

    @TestFactory
    Stream<DynamicTest> everyPrimaryBuiltinInEveryPosition() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String fn : StatementClassifier.PRIMARY_BUILTINS) {
            for (String sql : List.of("select " + fn + "(1)", "SELECT " + fn.toUpperCase() + " (1)", "select pg_catalog." + fn + "(1)",
                    "select a from t where " + fn + "(a) > 0", "select * from (select " + fn + "(1)) s", "values (" + fn + "(1))",
                    "with x as (select " + fn + "(1)) select * from x")) {
                tests.add(DynamicTest.dynamicTest(sql, () -> {
                    Classification c = classifier.classify(sql);
                    assertEquals(Route.PRIMARY, c.route(), sql);
                    assertEquals(Reason.PRIMARY_FUNCTION, c.reason(), sql);
                    assertEquals(false, c.sessionState(), sql);
                }));
            }
            for (String sql : List.of("select '" + fn + "(1)'", "select " + fn + " from t", "select other_schema." + fn + "(1)",
                    "select 1 -- " + fn + "(1)")) {
                tests.add(DynamicTest.dynamicTest(sql, () -> assertEquals(Route.STANDBY_OK, classifier.classify(sql).route(), sql)));
            }
        }
        for (String fn : StatementClassifier.SESSION_BUILTINS) {
            String sql = "select " + fn + "(1)";
            tests.add(DynamicTest.dynamicTest(sql, () -> {
                Classification c = classifier.classify(sql);
                assertEquals(Route.PRIMARY, c.route(), sql);
                assertTrue(c.sessionState(), sql);
            }));
        }
        return tests.stream();
    }

    @Test
    void catalogIsReadOnEveryCallSoThatItCanBeRefreshed() {
        FunctionCatalog[] current = {FunctionCatalog.NONE};
        StatementClassifier c = new StatementClassifier(() -> current[0]);
        assertEquals(Route.STANDBY_OK, c.classify("select audit()").route());
        current[0] = FunctionCatalog.of(Set.of("public.audit"));
        assertEquals(Reason.VOLATILE_FUNCTION, c.classify("select audit()").reason());
    }

    @Test
    void dollarQuoteTagsMustMatch() {
        assertEquals(Route.STANDBY_OK, classifier.classify("select $a$ $b$ delete $a$").route());
        assertEquals(Route.PRIMARY, classifier.classify("select $a$ x $a$; delete from t").route());
        assertEquals(Route.STANDBY_OK, classifier.classify("select $1, $2 from t where a = $3").route());
    }
}
