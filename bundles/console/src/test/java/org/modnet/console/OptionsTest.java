package org.modnet.console;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class OptionsTest {

    @Test
    void defaultsAreTheDefaultInstanceTheGivenFeatureAndAShell() {
        Options o = Options.parse(List.of(), "minimal");
        assertEquals("default", o.name());
        assertEquals("minimal", o.feature());
        assertFalse(o.stay());
        assertNull(o.commands());
    }

    @Test
    void readsNameFeatureStayAndCommands() {
        Options o = Options.parse(List.of("-n", "r1", "--feature", "full", "--stay", "-c", "lb; lsmod"), "minimal");
        assertEquals("r1", o.name());
        assertEquals("full", o.feature());
        assertTrue(o.stay());
        assertEquals("lb; lsmod", o.commands());
    }

    @Test
    void refusesUnknownOptionsMissingValuesAndNamesThatAreNotFileNames() {
        assertEquals("modnet: unknown option '-x'",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("-x"), null)).getMessage());
        assertEquals("modnet: option -c needs a value",
                assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("-c"), null)).getMessage());
        assertThrows(IllegalArgumentException.class, () -> Options.parse(List.of("-n", "../etc"), null));
    }
}
