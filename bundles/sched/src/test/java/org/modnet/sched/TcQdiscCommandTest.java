package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.sched.QdiscOps;
import org.modnet.api.shell.CommandException;

/** {@code tc qdisc} against Linux's output lines and error words. */
class TcQdiscCommandTest {
    private final SchedRig rig;

    TcQdiscCommandTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
    }

    private void fails(String line, String words, int status) {
        List<String> before = rig.tc("qdisc show dev va");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc(line));
        assertEquals(words, e.getMessage());
        assertEquals(status, e.status());
        assertEquals(before, rig.tc("qdisc show dev va"), "a refused command changes nothing");
    }

    @Test
    void showsTheDefaultQdiscOfEachDevice() {
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"));
        assertTrue(rig.tc("qdisc show").contains("qdisc noqueue 0: dev vb root refcnt 2 "));
    }

    @Test
    void addsNetemAndPrintsItAsLinuxDoes() {
        rig.tc("qdisc add dev va root netem delay 50ms 10ms");
        assertEquals(List.of("qdisc netem 8001: root refcnt 2 limit 1000 delay 50ms  10ms"), rig.tc("qdisc show dev va"));
        assertEquals(List.of("qdisc netem 8001: root refcnt 2 limit 1000 delay 50ms  10ms",
                " Sent 0 bytes 0 pkt (dropped 0, overlimits 0 requeues 0) ", " backlog 0b 0p requeues 0"),
                rig.tc("-s qdisc show dev va"));
        assertEquals("netem", rig.va.qdisc(), "ip link show prints the qdisc's kind");
    }

    @Test
    void printsEveryNetemOptionInIproute2Order() {
        rig.tc("qdisc add dev va root handle 1: netem delay 50ms 10ms 25% distribution normal loss random 20% 5% "
                + "duplicate 1% reorder 25% 50% gap 5 corrupt 0.1% rate 10mbit limit 500 seed 42");
        assertEquals(List.of("qdisc netem 1: root refcnt 2 limit 500 delay 50ms  10ms 25% loss 20% 5% duplicate 1% "
                + "reorder 25% 50% corrupt 0.1% rate 10Mbit seed 42 gap 5"), rig.tc("qdisc show dev va"));
        rig.tc("qdisc replace dev va root netem loss gemodel 1% 10% 70% 0.1%");
        assertEquals(List.of("qdisc netem 1: root refcnt 2 limit 1000 loss gemodel p 1% r 10% 1-h 70% 1-k 0.1%"),
                rig.tc("qdisc show dev va"));
    }

    @Test
    void netemEcnIsPrintedAfterTheLossAndNeedsALossModel() {
        rig.tc("qdisc add dev va root netem loss 1% ecn delay 10ms");
        assertEquals(List.of("qdisc netem 8001: root refcnt 2 limit 1000 delay 10ms loss 1% ecn"), rig.tc("qdisc show dev va"));
        rig.tc("qdisc del dev va root");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root netem ecn"));
        assertTrue(e.getMessage().startsWith("ecn requested without loss model"), e.getMessage());
    }

    @Test
    void printsTbfWithLatencyFromItsLimit() {
        rig.tc("qdisc add dev va root tbf rate 10mbit burst 32kbit latency 400ms");
        assertEquals(List.of("qdisc tbf 8001: root refcnt 2 rate 10Mbit burst 4Kb lat 400ms "), rig.tc("qdisc show dev va"));
        rig.tc("qdisc replace dev va root tbf rate 10mbit burst 10kb limit 3000 peakrate 12mbit mtu 1514");
        assertEquals(List.of("qdisc tbf 8001: root refcnt 2 rate 10Mbit burst 10Kb peakrate 12Mbit minburst 1514b lat 991us "),
                rig.tc("qdisc show dev va"));
    }

    @Test
    void printsTheFifosAndPrio() {
        rig.tc("qdisc replace dev va root pfifo limit 100");
        assertEquals(List.of("qdisc pfifo 8001: root refcnt 2 limit 100p"), rig.tc("qdisc show dev va"));
        rig.tc("qdisc replace dev va root bfifo limit 10000");
        assertEquals(List.of("qdisc bfifo 8002: root refcnt 2 limit 10000b"), rig.tc("qdisc show dev va"));
        rig.tc("qdisc replace dev va root pfifo_fast");
        assertEquals(List.of("qdisc pfifo_fast 8003: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"),
                rig.tc("qdisc show dev va"));
        rig.tc("qdisc replace dev va root handle 1: prio bands 4 priomap 3 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1");
        assertEquals(List.of("qdisc prio 1: root refcnt 2 bands 4 priomap 3 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"),
                rig.tc("qdisc show dev va"));
    }

    @Test
    void changeKeepsTheQdiscAndItsHandle() {
        rig.tc("qdisc add dev va root netem delay 50ms");
        rig.tc("qdisc change dev va root netem delay 10ms loss 1%");
        assertEquals(List.of("qdisc netem 8001: root refcnt 2 limit 1000 delay 10ms loss 1%"), rig.tc("qdisc show dev va"));
    }

    @Test
    void deleteRestoresTheDefault() {
        rig.tc("qdisc add dev va root netem delay 50ms");
        rig.tc("qdisc del dev va root");
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"));
        assertEquals("noqueue", rig.va.qdisc());
    }

    @Test
    void refusesBadInputInTcsWordsAndChangesNothing() {
        fails("qdisc add dev va root foo", "Error: Specified qdisc kind is unknown.", 2);
        fails("qdisc add dev nodev root netem", "Cannot find device \"nodev\"", 1);
        fails("qdisc add dev va root handle zz: netem", "Error: argument \"zz:\" is wrong: invalid qdisc ID", 255);
        fails("qdisc add dev va root netem loss 120%", "Illegal \"loss percent\"", 1);
        fails("qdisc add dev va root netem delay -5ms", "Illegal \"latency\"", 1);
        fails("qdisc add dev va root netem rate 0", "Illegal \"rate\"", 1);
        fails("qdisc add dev va root tbf rate 0 burst 10k latency 1ms", "tbf: the \"rate\" parameter is mandatory.\n" + SchTbf.USAGE, 1);
        fails("qdisc add dev va root tbf rate 1mbit latency 1ms", "tbf: the \"burst\" parameter is mandatory.\n" + SchTbf.USAGE, 1);
        fails("qdisc del dev va root", "Error: Cannot delete qdisc with handle of zero.", 2);
        fails("qdisc change dev va root netem delay 1ms", "Error: Qdisc not found. To create specify NLM_F_CREATE flag.", 2);
        rig.tc("qdisc add dev va root netem delay 1ms");
        fails("qdisc add dev va root netem delay 2ms", "Error: Exclusivity flag on, cannot modify.", 2);
        fails("qdisc change dev va root tbf rate 1mbit burst 10k latency 1ms", "Error: Invalid qdisc name.", 2);
        fails("qdisc del dev va root handle 5:", "Error: Invalid handle.", 2);
        fails("qdisc change dev va root netem delay 1ms seed x", "Illegal \"seed\"", 1);
    }

    @Test
    void aFamilyThatLeavesTakesItsQdiscsOffTheirDevices() {
        rig.tc("qdisc add dev va root netem delay 50ms");
        NetemOps netem = new NetemOps();
        rig.tc.addFamily(netem, Map.of(QdiscOps.KIND, "netem"));
        rig.tc.removeFamily(netem, Map.of(QdiscOps.KIND, "netem"));
        assertEquals(List.of("qdisc noqueue 0: root refcnt 2 "), rig.tc("qdisc show dev va"));
        assertThrows(CommandException.class, () -> rig.tc("qdisc add dev va root netem"));
    }

    @Test
    void stoppingTheLayerGivesEveryDeviceItsDefaultBack() {
        rig.tc("qdisc add dev va root tbf rate 1mbit burst 10k latency 10ms");
        rig.tc("qdisc add dev vb root pfifo");
        rig.tc.deactivate();
        assertSame(null, rig.core.qdiscHook().qdisc(rig.va));
        assertEquals("noqueue", rig.vb.qdisc());
    }
}
