package org.modnet.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class JsonTest {

    @Test
    void readsObjectsArraysStringsNumbersAndLiteralsInOrder() {
        Object v = Json.parse("{\"b\": [1, 2.5, \"x\"], \"a\": {\"t\": true, \"f\": false, \"n\": null}}");
        Map<?, ?> map = (Map<?, ?>) v;
        assertEquals(List.of("b", "a"), List.copyOf(map.keySet()));
        assertEquals(List.of(1L, 2.5, "x"), map.get("b"));
        Map<?, ?> a = (Map<?, ?>) map.get("a");
        assertEquals(Boolean.TRUE, a.get("t"));
        assertEquals(Boolean.FALSE, a.get("f"));
        assertTrue(a.containsKey("n"));
    }

    @Test
    void decodesEscapes() {
        assertEquals("a\"b\\c\n\u00e9/", Json.parse("\"a\\\"b\\\\c\\n\\u00e9\\/\""));
    }

    @Test
    void skipsCommentsAsFeatureFilesAllowThem() {
        assertEquals(Map.of("a", 1L), Json.parse("// head\n{ /* inner */ \"a\": 1 }\n"));
    }

    @Test
    void reportsTheLineAndColumnOfAnError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse("{\n  \"a\": ,\n}"));
        assertEquals("line 2, column 8: unexpected character ','", e.getMessage());
    }

    @Test
    void refusesDuplicateKeysTrailingTextAndUnterminatedInput() {
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{\"a\": 1, \"a\": 2}"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("{} x"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("[1, 2"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"abc"));
        assertThrows(IllegalArgumentException.class, () -> Json.parse("\"\\u12\""));
    }
}
