package io.pgha.api.validation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** spec.parameters as PostgreSQL reads them: names without case, values on one line, no code loading. */
class ParameterValidationTest {
    private static final String HEAD = "apiVersion: pgha.io/v1\nkind: PostgresCluster\nmetadata:\n  name: pg\n";
    private static final String QUORUM = "spec:\n  instances: 3\n  replication:\n    synchronous: quorum\n";

    private static String rejection(String spec) {
        String message = assertThrows(InvalidManifestException.class,
                () -> ManifestParser.parseCluster(HEAD + spec)).getMessage();
        assertFalse(message.contains("\n"), "one line: " + message);
        return message;
    }

    private static String parameters(String lines) {
        return "spec:\n  parameters:\n" + lines;
    }

    @Test
    void synchronousCommitInAnyCaseIsRefusedInQuorumMode() {
        String message = rejection(QUORUM + "  parameters:\n    Synchronous_Commit: \"off\"\n");
        assertTrue(message.contains("spec.parameters.Synchronous_Commit: 'off' lets a commit return"), message);
    }

    @Test
    void safeSynchronousCommitInAnyCasePassesInQuorumMode() {
        ManifestParser.parseCluster(HEAD + QUORUM + "  parameters:\n    SYNCHRONOUS_COMMIT: remote_apply\n");
    }

    @Test
    void managedParameterInAnotherCaseIsRefused() {
        assertTrue(rejection(parameters("    WAL_Level: minimal\n"))
                .contains("spec.parameters.WAL_Level: is managed by pgha"));
    }

    @Test
    void twoNamesEqualAfterCaseFoldingAreRefused() {
        String message = rejection(parameters("    work_mem: 4MB\n    Work_Mem: 8MB\n"));
        assertTrue(message.contains("spec.parameters.Work_Mem: is the same parameter as spec.parameters.work_mem"),
                message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"a\\nb\"", "\"a\\rb\"", "\"a\\u0001b\""})
    void valuesWithControlCharactersAreRefused(String yamlValue) {
        String message = rejection(parameters("    log_line_prefix: " + yamlValue + "\n"));
        assertTrue(message.contains("spec.parameters.log_line_prefix: must be a single line"), message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"recovery_end_command", "ssl_passphrase_command", "session_preload_libraries",
            "local_preload_libraries", "dynamic_library_path", "jit_provider", "log_directory", "log_filename",
            "Session_Preload_Libraries"})
    void parametersThatRunCodeOrMoveFilesAreRefused(String name) {
        String message = rejection(parameters("    " + name + ": \"/tmp/x\"\n"));
        assertEquals("invalid manifest: spec.parameters." + name
                + ": loads code, runs a command or moves server files, so pgha refuses it", message);
    }

    @ParameterizedTest
    @ValueSource(strings = {"restore_command", "archive_cleanup_command", "data_directory", "config_file",
            "hba_file", "ident_file", "external_pid_file"})
    void fileAndCommandParametersPgHaSetsStayManaged(String name) {
        assertTrue(rejection(parameters("    " + name + ": \"/tmp/x\"\n"))
                .contains("spec.parameters." + name + ": is managed by pgha"));
    }

    @Test
    void sharedPreloadLibrariesFromTheAllowlistPass() {
        ManifestParser.parseCluster(HEAD + parameters(
                "    shared_preload_libraries: \"pg_stat_statements, auto_explain,\\\"pg_prewarm\\\"\"\n"));
    }

    @Test
    void sharedPreloadLibrariesOutsideTheAllowlistAreRefused() {
        String message = rejection(parameters(
                "    Shared_Preload_Libraries: \"pg_stat_statements,/tmp/evil.so\"\n"));
        assertTrue(message.contains("spec.parameters.Shared_Preload_Libraries: may only name"), message);
        assertTrue(message.contains("got [/tmp/evil.so]"), message);
    }

    @Test
    void confQuoteEscapesBackslashAndQuoteAsTheConfigurationLexerReadsThem() {
        assertEquals("'C:\\\\dir\\\\'", PostgresParameters.confQuote("C:\\dir\\"));
        assertEquals("'it''s'", PostgresParameters.confQuote("it's"));
    }
}
