package io.pgha.backup.core;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.*;

class WalDecisionsTest {
    private static final List<WalFileName> STORED = List.of(
            WalFileName.parse("000000010000000000000001"),
            WalFileName.parse("000000010000000000000003"),
            WalFileName.parse("000000020000000000000009"),
            WalFileName.parse("000000010000000000000002.00000028.backup"));

    @Test
    void pushIsIdempotentAndNeverOverwrites() {
        assertEquals(WalDecisions.Push.STORE, WalDecisions.push(Optional.empty(), "a"));
        assertEquals(WalDecisions.Push.ALREADY_STORED, WalDecisions.push(Optional.of("a"), "a"));
        assertEquals(WalDecisions.Push.CONFLICT, WalDecisions.push(Optional.of("a"), "b"));
    }

    @Test
    void notFoundOnlyBeyondTheNewestSegmentOfTheTimeline() {
        assertInstanceOf(WalDecisions.NotFound.class, WalDecisions.missing(WalFileName.parse("000000010000000000000004"), STORED));
        // timeline 2's later segment says nothing about timeline 1
        assertInstanceOf(WalDecisions.NotFound.class, WalDecisions.missing(WalFileName.parse("000000030000000000000001"), STORED));
        assertInstanceOf(WalDecisions.NotFound.class, WalDecisions.missing(WalFileName.parse("00000004.history"), STORED));
    }

    @Test
    void aMissingSegmentBelowTheNewestIsAHoleNamingIt() {
        WalDecisions.Missing m = WalDecisions.missing(WalFileName.parse("000000010000000000000002"), STORED);
        WalDecisions.Hole hole = assertInstanceOf(WalDecisions.Hole.class, m);
        assertTrue(hole.message().contains("000000010000000000000002"), hole.message());
        assertTrue(hole.message().contains("000000010000000000000003"), hole.message());
    }
}
