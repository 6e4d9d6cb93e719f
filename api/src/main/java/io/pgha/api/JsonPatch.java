package io.pgha.api;

import java.util.LinkedHashMap;
import java.util.Map;

/** RFC 6902 JSON Patch operations, as the status writers of the provisioner and the monitor send them. */
public final class JsonPatch {
    private JsonPatch() {
    }

    /** One operation; serialized in the order op, path, value. */
    public static Map<String, Object> op(String op, String path, Object value) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("op", op);
        m.put("path", path);
        m.put("value", value);
        return m;
    }
}
