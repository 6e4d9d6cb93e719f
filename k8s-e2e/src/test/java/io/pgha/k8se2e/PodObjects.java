package io.pgha.k8se2e;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarSource;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a kubelet reads from the API server on a pod's behalf: Secret and ConfigMap keys, and the
 * downward API's fields, for environment variables and for volume files. A missing object or key is
 * a {@link NotReady} (the kubelet retries, as a real one reports CreateContainerConfigError).
 */
final class PodObjects {
    private static final Pattern MAP_FIELD = Pattern.compile("metadata\\.(labels|annotations)\\['(.+)'\\]");

    static final class NotReady extends RuntimeException {
        NotReady(String message) {
            super(message);
        }
    }

    private final KubernetesClient client;

    PodObjects(KubernetesClient client) {
        this.client = client;
    }

    /** The keys of a Secret, decoded; stringData as the API server would have merged it. */
    Map<String, byte[]> secret(String namespace, String name) {
        Secret s = client.secrets().inNamespace(namespace).withName(name).get();
        if (s == null) {
            throw new NotReady("secret " + namespace + "/" + name + " not found");
        }
        Map<String, byte[]> out = new TreeMap<>();
        if (s.getData() != null) {
            s.getData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        if (s.getStringData() != null) {
            s.getStringData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        return out;
    }

    Map<String, byte[]> configMap(String namespace, String name) {
        ConfigMap c = client.configMaps().inNamespace(namespace).withName(name).get();
        if (c == null) {
            throw new NotReady("configmap " + namespace + "/" + name + " not found");
        }
        Map<String, byte[]> out = new TreeMap<>();
        if (c.getData() != null) {
            c.getData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
        }
        if (c.getBinaryData() != null) {
            c.getBinaryData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        }
        return out;
    }

    /** Selects the items of a Secret or ConfigMap volume source (all keys when none are listed). */
    static Map<String, byte[]> items(Map<String, byte[]> data, List<KeyToPath> items, String what) {
        Map<String, byte[]> files = new TreeMap<>();
        if (items == null || items.isEmpty()) {
            files.putAll(data);
            return files;
        }
        for (KeyToPath item : items) {
            byte[] v = data.get(item.getKey());
            if (v == null) {
                throw new NotReady(what + " has no key " + item.getKey());
            }
            files.put(item.getPath(), v);
        }
        return files;
    }

    /** A downward-API field of the pod as its string value. */
    static String field(Pod pod, String path) {
        Matcher m = MAP_FIELD.matcher(path);
        if (m.matches()) {
            Map<String, String> map = m.group(1).equals("labels") ? pod.getMetadata().getLabels() : pod.getMetadata().getAnnotations();
            return map == null ? "" : map.getOrDefault(m.group(2), "");
        }
        return switch (path) {
            case "metadata.name" -> pod.getMetadata().getName();
            case "metadata.namespace" -> pod.getMetadata().getNamespace();
            case "metadata.uid" -> pod.getMetadata().getUid();
            case "metadata.labels" -> formatMap(pod.getMetadata().getLabels());
            case "metadata.annotations" -> formatMap(pod.getMetadata().getAnnotations());
            case "spec.nodeName" -> Kubelet.NODE_NAME;
            case "spec.serviceAccountName" -> pod.getSpec().getServiceAccountName();
            case "status.podIP", "status.podIPs" -> pod.getStatus() == null ? "" : pod.getStatus().getPodIP();
            case "status.hostIP", "status.hostIPs" -> NodeNetwork.GATEWAY;
            default -> throw new IllegalArgumentException("downward API field " + path + " is not supported by the test kubelet");
        };
    }

    /** As the kubelet writes a map into a downward-API file: sorted {@code key="value"} lines, no final newline. */
    static String formatMap(Map<String, String> map) {
        if (map == null) {
            return "";
        }
        StringBuilder b = new StringBuilder();
        new TreeMap<>(map).forEach((k, v) -> b.append(k).append('=').append('"')
                .append(v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n")).append('"').append('\n'));
        return b.isEmpty() ? "" : b.substring(0, b.length() - 1);
    }

    /** A container's environment: the image's, then the kubelet's kubernetes Service variables, then the container's own. */
    Map<String, String> environment(Pod pod, Map<String, String> imageEnv, List<EnvVar> declared) {
        Map<String, String> env = new LinkedHashMap<>(imageEnv);
        env.put("HOSTNAME", pod.getSpec().getHostname() != null ? pod.getSpec().getHostname() : pod.getMetadata().getName());
        env.put("KUBERNETES_SERVICE_HOST", NodeNetwork.API_SERVICE_IP);
        env.put("KUBERNETES_SERVICE_PORT", Integer.toString(NodeNetwork.API_SERVICE_PORT));
        env.put("KUBERNETES_SERVICE_PORT_HTTPS", Integer.toString(NodeNetwork.API_SERVICE_PORT));
        String ns = pod.getMetadata().getNamespace();
        for (EnvVar e : declared == null ? List.<EnvVar>of() : declared) {
            EnvVarSource from = e.getValueFrom();
            if (from == null) {
                env.put(e.getName(), e.getValue() == null ? "" : e.getValue());
            } else if (from.getFieldRef() != null) {
                env.put(e.getName(), field(pod, from.getFieldRef().getFieldPath()));
            } else if (from.getSecretKeyRef() != null) {
                env.put(e.getName(), key(secret(ns, from.getSecretKeyRef().getName()), from.getSecretKeyRef().getKey(),
                        "secret " + from.getSecretKeyRef().getName()));
            } else if (from.getConfigMapKeyRef() != null) {
                env.put(e.getName(), key(configMap(ns, from.getConfigMapKeyRef().getName()), from.getConfigMapKeyRef().getKey(),
                        "configmap " + from.getConfigMapKeyRef().getName()));
            } else {
                throw new IllegalArgumentException("env " + e.getName() + ": only fieldRef, secretKeyRef and configMapKeyRef are supported");
            }
        }
        return env;
    }

    private static String key(Map<String, byte[]> data, String key, String what) {
        byte[] v = data.get(key);
        if (v == null) {
            throw new NotReady(what + " has no key " + key);
        }
        return new String(v, StandardCharsets.UTF_8);
    }
}
