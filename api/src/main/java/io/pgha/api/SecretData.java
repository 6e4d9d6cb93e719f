package io.pgha.api;

import io.fabric8.kubernetes.api.model.Secret;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/** The data of the Secrets pgha reads: the keys the provisioner writes, and their values decoded. */
public final class SecretData {
    /** The keys of a {@code kubernetes.io/basic-auth} Secret, the type the provisioner creates for each role. */
    public static final String USERNAME = "username";
    public static final String PASSWORD = "password";

    private SecretData() {
    }

    /**
     * The value of {@code key}: decoded from {@code data}, else as written in {@code stringData}
     * (which the API server folds into data, but a Secret someone created by hand and the mock
     * server may still carry); null when neither holds it.
     */
    public static String value(Secret secret, String key) {
        if (secret.getData() != null && secret.getData().containsKey(key)) {
            return new String(Base64.getDecoder().decode(secret.getData().get(key)), StandardCharsets.UTF_8);
        }
        return secret.getStringData() == null ? null : secret.getStringData().get(key);
    }

    /** True when the Secret holds a value for every one of {@code keys}. */
    public static boolean has(Secret secret, String... keys) {
        for (String key : keys) {
            if (value(secret, key) == null) {
                return false;
            }
        }
        return true;
    }
}
