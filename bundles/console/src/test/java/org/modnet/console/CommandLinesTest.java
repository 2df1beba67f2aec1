package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class CommandLinesTest {

    @Test
    void splitsAtSemicolonsAndNewlinesLikeAShell() {
        assertEquals(List.of("lb", "lsmod", "feature list"), CommandLines.split("lb; lsmod\nfeature list;"));
    }

    @Test
    void keepsSeparatorsInsideQuotes() {
        assertEquals(List.of("echo 'a; b'", "echo \"c;d\""), CommandLines.split("echo 'a; b'; echo \"c;d\""));
    }

    @Test
    void keepsSemicolonsInsideGogoClosuresAndLists() {
        assertEquals(List.of("each [1 2] { echo a; echo b }", "lb"), CommandLines.split("each [1 2] { echo a; echo b }; lb"));
    }

    @Test
    void anEscapedSemicolonIsPartOfTheCommand() {
        assertEquals(List.of("echo a\\;b"), CommandLines.split("echo a\\;b"));
    }

    @Test
    void dropsEmptyCommandsAndComments() {
        assertEquals(List.of("lb"), CommandLines.split(" ; ;\n# a comment\nlb ;; "));
    }
}
