package org.modnet.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

class ModuleCommandsTest {
    @Test
    void lsmodPrintsLinuxColumnsWithTheSizeRightAligned() {
        String table = ModuleCommands.lsmodTable(List.<String[]>of(new String[] { "org.modnet.udp", "51234", "2 org.modnet.x" },
                new String[] { "org.modnet.drivers.loopback", "9000", "0" }));
        List<String> lines = table.lines().toList();
        assertEquals("Module                          Size  Used by", lines.get(0));
        assertEquals("org.modnet.udp                 51234  2 org.modnet.x", lines.get(1));
        assertEquals("org.modnet.drivers.loopback     9000  0", lines.get(2));
    }

    @Test
    void lsmodsHeaderIsLinuxsWhenNamesAreShort() {
        assertEquals("Module                  Size  Used by", ModuleCommands.lsmodTable(List.of()).strip());
    }

    @Test
    void inUseNamesTheModulesThenTheCounts() {
        Map<String, Integer> usage = new TreeMap<>(Map.of("sockets", 3, "devices", 1));
        assertEquals("Module udp is in use by: org.modnet.a 1 device 3 sockets",
                ModuleCommands.inUse("udp", List.of("org.modnet.a"), usage));
        assertEquals("Module org.modnet.udp is in use by: 1 socket",
                ModuleCommands.inUse("org.modnet.udp", List.of(), Map.of("sockets", 1)));
    }

    @Test
    void aNameIsTheSymbolicNameOrItsShortForm() {
        assertTrue(ModuleCommands.matches("org.modnet.udp", "org.modnet.udp"));
        assertTrue(ModuleCommands.matches("udp", "org.modnet.udp"));
        assertTrue(ModuleCommands.matches("veth", "org.modnet.drivers.veth"));
        assertFalse(ModuleCommands.matches("ud", "org.modnet.udp"));
        assertFalse(ModuleCommands.matches("", "org.modnet"));
        assertFalse(ModuleCommands.matches("udp", null));
    }

    @Test
    void theWarmUpLoadsTheComponentsThenTheirNestedClassesThenTheRestInTheJarsOrder() {
        // the jar's order puts a component's nested classes before it ('$' sorts before '.') and among the others
        List<String> jar = List.of("org.x.Alpha", "org.x.Tcp$Asks", "org.x.Tcp$Live", "org.x.Tcp", "org.x.TcpNet", "org.x.Tcpish",
                "org.x.Udp$1", "org.x.Zeta");
        assertEquals(List.of("org.x.Tcp", "org.x.Udp", "org.x.Tcp$Asks", "org.x.Tcp$Live", "org.x.Udp$1", "org.x.Alpha", "org.x.TcpNet",
                "org.x.Tcpish", "org.x.Zeta"), ModuleCommands.warmOrder(List.of("org.x.Tcp", "org.x.Udp"), jar));
        assertEquals(jar, ModuleCommands.warmOrder(List.of(), jar), "no component: the jar's order");
    }

    /** The classes a module names for the loading to take first (Modnet-Update-Warm), in its order, each once. */
    @Test
    void theClassesAModuleNamesFirstAreReadInTheHeadersOrder() {
        assertEquals(List.of("org.x.Mib", "org.x.Sock$Cwnd", "org.x.Timer"),
                ModuleCommands.namedClasses(" org.x.Mib,org.x.Sock$Cwnd , org.x.Timer,org.x.Mib,,"));
        assertEquals(List.of(), ModuleCommands.namedClasses(null), "no header: nothing first");
    }

    /** Breadth first from the components through the classes each names: what the start and the adoption meet comes first. */
    @Test
    void theWarmUpFollowsWhatTheComponentsNameThenTheJar() {
        List<String> jar = List.of("org.x.Zeta", "org.x.Sock", "org.x.Tcp", "org.x.Timer", "org.x.Tcp$1", "org.x.Unused");
        java.util.Map<String, List<String>> refs = java.util.Map.of("org.x.Tcp", List.of("java.lang.String", "org.x.Timer"),
                "org.x.Timer", List.of("org.x.Sock", "org.x.Tcp"));
        assertEquals(List.of("org.x.Tcp", "org.x.Tcp$1", "org.x.Timer", "org.x.Sock", "org.x.Zeta", "org.x.Unused"),
                ModuleCommands.warmOrder(List.of("org.x.Tcp"), jar, refs));
    }

    /** The constant pool's class names, read from a real class file. */
    @Test
    void classesNamedInAClassFileAreItsConstantPoolsClasses() throws Exception {
        byte[] b;
        try (java.io.InputStream in = ModuleCommands.class.getResourceAsStream("ModuleCommands.class")) {
            b = in.readAllBytes();
        }
        List<String> names = ModuleCommands.classesNamedIn(b);
        assertTrue(names.contains("org.modnet.shell.ModuleCommands"), names.toString());
        assertTrue(names.contains("org.osgi.framework.Bundle"), names.toString());
        assertEquals(List.of(), ModuleCommands.classesNamedIn(new byte[] { 1, 2, 3 }));
        assertEquals(List.of(), ModuleCommands.classesNamedIn(new byte[] { (byte) 0xca, (byte) 0xfe, (byte) 0xba, (byte) 0xbe, 0, 0, 0, 65, 0, 9 }),
                "a pool cut short reads as none");
    }

    /**
     * The update's steps with {@code modnet.update.schedstat}: each step's wait for a core beside its CPU, so that a step's time
     * off CPU splits into queued and blocked; without it the line is as it was (the benchmark's parsing of it unchanged).
     */
    @Test
    void theStepsSayEachStepsRunQueueWaitWhenAsked() {
        ModuleCommands.Steps asked = new ModuleCommands.Steps(System.nanoTime(), true);
        asked.mark("read");
        asked.mark("checked");
        assertTrue(asked.toString().matches(".* read [0-9.]+ \\([0-9.]+; q [0-9.]+\\) checked [0-9.]+ \\([0-9.]+; q [0-9.]+\\)"),
                asked.toString());
        assertTrue(ModuleCommands.Steps.runDelay() > 0, "this thread's schedstat is readable and counts its run-queue wait");
        ModuleCommands.Steps plain = new ModuleCommands.Steps(System.nanoTime(), false);
        plain.mark("read");
        assertTrue(plain.toString().matches(".* read [0-9.]+ \\([0-9.]+\\)"), plain.toString());
    }
}
