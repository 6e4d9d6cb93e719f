package io.pgha.local;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** StateFiles.deleteTree: a directory with everything under it goes; a link in it goes, not what it points to. */
class DeleteTreeTest {
    @TempDir
    Path root;

    @Test
    void aTreeGoesWithEverythingUnderItButNotWhatALinkInItPointsTo() throws Exception {
        Path outside = Files.writeString(root.resolve("outside"), "kept");
        Path tree = Files.createDirectories(root.resolve("tree/a/b"));
        Files.writeString(tree.resolve("file"), "x");
        Files.writeString(root.resolve("tree/top"), "y");
        Files.createSymbolicLink(root.resolve("tree/a/link"), outside);

        StateFiles.deleteTree(root.resolve("tree"));

        assertFalse(Files.exists(root.resolve("tree")));
        assertTrue(Files.exists(outside));
    }

    @Test
    void aMissingTreeIsNothingToDo() throws Exception {
        StateFiles.deleteTree(root.resolve("never-made"));
        assertTrue(Files.isDirectory(root));
    }
}
