package io.pgha.local.store;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.client.CustomResource;
import io.pgha.local.PghaException;
import io.pgha.local.StateFiles;

import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * pgha resources kept as JSON files under one directory, for one machine: the local stand-in for
 * the Kubernetes API. Every write is a compare-and-swap on the file's version with no lock held
 * ({@link VersionedFile}), so a writer frozen mid-write holds nobody up; {@code apply} with a
 * {@code metadata.resourceVersion} also fails when that is no longer current. As on Kubernetes, spec and
 * status are written apart: {@link #apply} never touches the status and {@link #updateStatus}
 * never touches the spec, so the services cannot clobber each other.
 */
public final class FileResourceStore {
    private static final ObjectMapper JSON = new ObjectMapper()
            .setSerializationInclusion(JsonInclude.Include.NON_NULL)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** What to do about a damaged resource file: its status (which instance is primary, which are fenced) cannot be rebuilt. */
    private static final String RECOVERY = "it holds the cluster's spec and status (the current primary, fenced "
            + "instances): restore it from a copy; pgha does not act on the cluster until it reads again";

    private final Path root;

    public FileResourceStore(Path root) {
        this.root = root;
    }

    public <T extends CustomResource<?, ?>> Optional<T> get(Class<T> type, String namespace, String name) {
        return read(type, file(type, namespace, name));
    }

    public <T extends CustomResource<?, ?>> List<T> list(Class<T> type, String namespace) {
        List<T> result = new ArrayList<>();
        for (Path f : files(type, namespace)) {
            read(type, f).ifPresent(result::add);
        }
        return result;
    }

    /**
     * A value that differs whenever a resource of {@code type} in {@code namespace} was created,
     * written or deleted since it was taken: every write makes a new version of its file. A
     * reader that polls compares it instead of parsing every resource again.
     */
    public Object version(Class<?> type, String namespace) {
        List<Object> version = new ArrayList<>();
        for (Path f : files(type, namespace)) {
            VersionedFile.Version latest = VersionedFile.latest(f);
            if (latest.content().isPresent()) {
                version.add(List.of(f.getFileName().toString(), latest.number()));
            }
        }
        return version;
    }

    private List<Path> files(Class<?> type, String namespace) {
        return VersionedFile.names(dir(type, namespace), ".json");
    }

    /**
     * Creates the resource, or replaces its spec, labels and annotations keeping its status (as
     * kubectl apply does). When {@code resource} carries a resourceVersion, the write succeeds only
     * if it is still current. The generation goes up only when the spec changes.
     */
    public <T extends CustomResource<?, ?>> T apply(T resource) {
        ObjectMeta meta = resource.getMetadata();
        @SuppressWarnings("unchecked")
        Class<T> type = (Class<T>) resource.getClass();
        Path file = file(type, meta.getNamespace(), meta.getName());
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            Optional<T> current = read(type, version);
            T next = copy(resource, type);
            if (current.isEmpty()) {
                if (meta.getResourceVersion() != null) {
                    throw new ConflictException(describe(resource) + " no longer exists");
                }
                next.getMetadata().setUid(UUID.randomUUID().toString());
                next.getMetadata().setCreationTimestamp(Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
                next.getMetadata().setGeneration(1L);
                next.getMetadata().setResourceVersion("1");
                setStatus(next, null);
            } else {
                T old = current.get();
                checkVersion(resource, old);
                ObjectMeta oldMeta = old.getMetadata();
                next.getMetadata().setUid(oldMeta.getUid());
                next.getMetadata().setCreationTimestamp(oldMeta.getCreationTimestamp());
                boolean specChanged = !JSON.valueToTree(old.getSpec()).equals(JSON.valueToTree(next.getSpec()));
                next.getMetadata().setGeneration(oldMeta.getGeneration() + (specChanged ? 1 : 0));
                next.getMetadata().setResourceVersion(nextVersion(oldMeta));
                setStatus(next, old.getStatus());
                if (JSON.valueToTree(old).equals(JSON.valueToTree(withVersion(next, oldMeta.getResourceVersion())))) {
                    return old;
                }
            }
            if (write(file, version, next)) {
                return next;
            }
        }
    }

    /**
     * Changes only the status: {@code mutate} gets the current resource and changes its part of
     * the status in place; when another write came first, {@code mutate} runs again on the newer
     * resource. Nothing is written when the status did not change, so an unchanged observation
     * does not wake every watcher. Empty when the resource does not exist.
     */
    public <T extends CustomResource<?, ?>> Optional<T> updateStatus(Class<T> type, String namespace, String name,
                                                                     UnaryOperator<T> mutate) {
        Path file = file(type, namespace, name);
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            Optional<T> current = read(type, version);
            if (current.isEmpty() && version.content().isPresent()) {
                continue;
            }
            if (current.isEmpty()) {
                return Optional.empty();
            }
            JsonNode before = JSON.valueToTree(current.get().getStatus());
            JsonNode spec = JSON.valueToTree(current.get().getSpec());
            T next = mutate.apply(current.get());
            if (!spec.equals(JSON.valueToTree(next.getSpec()))) {
                throw new IllegalStateException("a status update changed the spec of " + describe(next));
            }
            if (before.equals(JSON.valueToTree(next.getStatus()))) {
                return Optional.of(next);
            }
            next.getMetadata().setResourceVersion(nextVersion(next.getMetadata()));
            if (write(file, version, next)) {
                return Optional.of(next);
            }
        }
    }

    public <T extends CustomResource<?, ?>> boolean delete(Class<T> type, String namespace, String name) {
        Path file = file(type, namespace, name);
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            if (version.content().isEmpty()) {
                return false;
            }
            if (VersionedFile.write(file, version, null)) {
                return true;
            }
        }
    }

    private void checkVersion(CustomResource<?, ?> wanted, CustomResource<?, ?> current) {
        String expected = wanted.getMetadata().getResourceVersion();
        if (expected != null && !expected.equals(current.getMetadata().getResourceVersion())) {
            throw new ConflictException(describe(wanted) + " was modified: resourceVersion is "
                    + current.getMetadata().getResourceVersion() + ", not " + expected);
        }
    }

    private static String nextVersion(ObjectMeta meta) {
        return Long.toString(Long.parseLong(Objects.requireNonNullElse(meta.getResourceVersion(), "0")) + 1);
    }

    @SuppressWarnings("unchecked")
    private static <T extends CustomResource<?, ?>> T withVersion(T resource, String version) {
        T copy = copy(resource, (Class<T>) resource.getClass());
        copy.getMetadata().setResourceVersion(version);
        return copy;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void setStatus(CustomResource resource, Object status) {
        resource.setStatus(status);
    }

    private static <T> T copy(T value, Class<T> type) {
        return JSON.convertValue(value, type);
    }

    private <T> Optional<T> read(Class<T> type, Path file) {
        while (true) {
            VersionedFile.Version version = VersionedFile.latest(file);
            Optional<T> read = read(type, version);
            // empty although the version has content: cleaned up after newer ones since: read again
            if (read.isPresent() || version.content().isEmpty()) {
                return read;
            }
        }
    }

    private <T> Optional<T> read(Class<T> type, VersionedFile.Version version) {
        return version.content().flatMap(f -> StateFiles.readJson(JSON, f, type, RECOVERY));
    }

    /** False when another writer wrote a newer version first. */
    private boolean write(Path file, VersionedFile.Version base, Object value) {
        byte[] content;
        try {
            content = JSON.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a resource always serializes", e);
        }
        return VersionedFile.write(file, base, content);
    }

    private Path dir(Class<?> type, String namespace) {
        return root.resolve(io.fabric8.kubernetes.api.model.HasMetadata.getPlural(type)).resolve(namespace);
    }

    private Path file(Class<?> type, String namespace, String name) {
        return dir(type, namespace).resolve(name + ".json");
    }

    private static String describe(CustomResource<?, ?> r) {
        return r.getKind() + " " + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    }
}
