package io.pgha.provisioner.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The checks of the "restricted" Pod Security Standard (Kubernetes 1.32: the baseline controls
 * plus the restricted ones) on a pod spec as JSON, plus pgha's own rule that every root filesystem
 * is read-only. Returns what fails, one line each, empty when the spec passes.
 */
final class RestrictedPodSecurity {
    /** The volume types the restricted profile allows. */
    private static final Set<String> VOLUME_TYPES = Set.of("configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
            "persistentVolumeClaim", "projected", "secret");
    private static final Set<String> SECCOMP_TYPES = Set.of("RuntimeDefault", "Localhost");

    private RestrictedPodSecurity() {
    }

    static List<String> violations(String what, JsonNode pod) {
        List<String> out = new ArrayList<>();
        for (String host : List.of("hostNetwork", "hostPID", "hostIPC")) {
            if (pod.path(host).asBoolean(false)) {
                out.add(what + ": " + host);
            }
        }
        for (JsonNode volume : pod.path("volumes")) {
            volume.fieldNames().forEachRemaining(f -> {
                if (!f.equals("name") && !VOLUME_TYPES.contains(f)) {
                    out.add(what + ": volume " + volume.path("name").asText() + " is " + f);
                }
            });
        }
        JsonNode podContext = pod.path("securityContext");
        boolean podNonRoot = podContext.path("runAsNonRoot").asBoolean(false);
        boolean podSeccomp = SECCOMP_TYPES.contains(podContext.path("seccompProfile").path("type").asText());
        if (podContext.path("runAsUser").asLong(-1) == 0) {
            out.add(what + ": runAsUser 0");
        }
        List<JsonNode> containers = new ArrayList<>();
        pod.path("initContainers").forEach(containers::add);
        pod.path("containers").forEach(containers::add);
        pod.path("ephemeralContainers").forEach(containers::add);
        if (containers.isEmpty()) {
            out.add(what + ": no containers");
        }
        for (JsonNode c : containers) {
            String name = what + " container " + c.path("name").asText();
            JsonNode ctx = c.path("securityContext");
            if (ctx.path("privileged").asBoolean(false)) {
                out.add(name + ": privileged");
            }
            if (!ctx.path("allowPrivilegeEscalation").isBoolean() || ctx.path("allowPrivilegeEscalation").asBoolean()) {
                out.add(name + ": allowPrivilegeEscalation is not false");
            }
            if (!(podNonRoot || ctx.path("runAsNonRoot").asBoolean(false)) || ctx.path("runAsNonRoot").asText().equals("false")) {
                out.add(name + ": runAsNonRoot is not true");
            }
            if (ctx.path("runAsUser").asLong(-1) == 0) {
                out.add(name + ": runAsUser 0");
            }
            String seccomp = ctx.path("seccompProfile").path("type").asText(null);
            if (seccomp == null ? !podSeccomp : !SECCOMP_TYPES.contains(seccomp)) {
                out.add(name + ": seccompProfile is not RuntimeDefault or Localhost");
            }
            boolean dropsAll = false;
            for (JsonNode d : ctx.path("capabilities").path("drop")) {
                dropsAll |= d.asText().equals("ALL");
            }
            if (!dropsAll) {
                out.add(name + ": capabilities do not drop ALL");
            }
            for (JsonNode a : ctx.path("capabilities").path("add")) {
                if (!a.asText().equals("NET_BIND_SERVICE")) {
                    out.add(name + ": adds capability " + a.asText());
                }
            }
            for (JsonNode p : c.path("ports")) {
                if (p.path("hostPort").asInt(0) != 0) {
                    out.add(name + ": hostPort");
                }
            }
            // pgha's own rule, beyond the standard: what a program writes goes to a volume
            if (!ctx.path("readOnlyRootFilesystem").asBoolean(false)) {
                out.add(name + ": root filesystem is writable");
            }
        }
        return out;
    }
}
