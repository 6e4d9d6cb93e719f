package io.pgha.api;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecretDataTest {
    @Test
    void valuesComeDecodedFromDataOrAsWrittenFromStringData() {
        Secret s = new SecretBuilder().withData(Map.of(SecretData.USERNAME, "cG9zdGdyZXM=")) // "postgres"
                .withStringData(Map.of(SecretData.PASSWORD, "s3cret")).build();
        assertEquals("postgres", SecretData.value(s, SecretData.USERNAME));
        assertEquals("s3cret", SecretData.value(s, SecretData.PASSWORD));
        assertTrue(SecretData.has(s, SecretData.USERNAME, SecretData.PASSWORD));
        assertNull(SecretData.value(s, "token"));
        assertFalse(SecretData.has(s, SecretData.USERNAME, "token"));
        assertFalse(SecretData.has(new Secret(), SecretData.USERNAME));
    }
}
