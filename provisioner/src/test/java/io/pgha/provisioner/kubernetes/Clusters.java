package io.pgha.provisioner.kubernetes;

import io.pgha.api.v1.cluster.PostgresCluster;
import io.pgha.api.validation.ManifestParser;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Test clusters: the example manifest from deploy/examples, as the API server would hand it over. */
final class Clusters {
    static final Path REPO = Path.of(System.getProperty("user.dir")).getParent();

    private Clusters() {
    }

    static PostgresCluster example(String namespace) {
        try {
            PostgresCluster cluster = ManifestParser.parseCluster(Files.readString(REPO.resolve("deploy/examples/cluster.yaml")));
            cluster.getMetadata().setNamespace(namespace);
            cluster.getMetadata().setUid("uid-" + cluster.getMetadata().getName());
            cluster.getMetadata().setGeneration(1L);
            return cluster;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
