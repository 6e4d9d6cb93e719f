package io.pgha.provisioner.kubernetes;

import io.fabric8.kubernetes.api.model.PodSecurityContext;
import io.fabric8.kubernetes.api.model.PodSecurityContextBuilder;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.SecurityContextBuilder;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;

/**
 * The security settings of every pod pgha builds, so that they pass the "restricted" Pod Security
 * Standard: a non-root user, the runtime's default seccomp profile, no privilege escalation, no
 * capabilities, and a read-only root filesystem (what the programs must write goes to volumes;
 * {@link #TMP_VOLUME} is the scratch space bash here-documents and the JVM expect in /tmp).
 */
public final class PodSecurity {
    static final String RUNTIME_DEFAULT = "RuntimeDefault";
    public static final String TMP_VOLUME = "tmp";
    public static final String TMP_MOUNT = "/tmp";

    private PodSecurity() {
    }

    /** Pod level: non-root, seccomp RuntimeDefault; {@code uid} also owns the volumes (fsGroup) when given. */
    static PodSecurityContext pod(Long uid) {
        PodSecurityContextBuilder b = new PodSecurityContextBuilder().withRunAsNonRoot(true)
                .withNewSeccompProfile().withType(RUNTIME_DEFAULT).endSeccompProfile();
        if (uid != null) {
            b.withRunAsUser(uid).withRunAsGroup(uid).withFsGroup(uid);
        }
        return b.build();
    }

    /** Container level: no privilege escalation, every capability dropped, read-only root filesystem. */
    static SecurityContext container() {
        return new SecurityContextBuilder().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withNewCapabilities().withDrop("ALL").endCapabilities().build();
    }

    static Volume tmpVolume() {
        return new VolumeBuilder().withName(TMP_VOLUME).withNewEmptyDir().endEmptyDir().build();
    }

    static VolumeMount tmpMount() {
        return new VolumeMountBuilder().withName(TMP_VOLUME).withMountPath(TMP_MOUNT).build();
    }
}
