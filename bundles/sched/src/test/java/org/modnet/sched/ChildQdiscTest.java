package org.modnet.sched;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.modnet.api.shell.CommandException;

/** Child qdiscs in a classful root's classes: {@code tc qdisc add dev DEV parent 1:1 ...}. */
class ChildQdiscTest {
    private final SchedRig rig;

    ChildQdiscTest() throws Exception {
        rig = new SchedRig();
    }

    @AfterEach
    void close() {
        rig.close();
    }

    private void fails(String line, String words) {
        List<String> before = rig.tc("qdisc show dev va");
        CommandException e = assertThrows(CommandException.class, () -> rig.tc(line));
        assertEquals(words, e.getMessage());
        assertEquals(before, rig.tc("qdisc show dev va"));
    }

    @Test
    void aChildInAPrioClassIsShownUnderItsParent() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("qdisc add dev va parent 1:1 handle 10: netem delay 20ms");
        assertEquals(List.of("qdisc prio 1: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
                "qdisc netem 10: parent 1:1 limit 1000 delay 20ms"), rig.tc("qdisc show dev va"));
        rig.tc("qdisc change dev va parent 1:1 netem delay 30ms");
        assertEquals("qdisc netem 10: parent 1:1 limit 1000 delay 30ms", rig.tc("qdisc show dev va").get(1));
        assertEquals(List.of("qdisc prio 1: dev va root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1",
                "qdisc netem 10: dev va parent 1:1 limit 1000 delay 30ms"), rig.tc("qdisc show").subList(0, 2));
    }

    @Test
    void onlyTheClassWithTheChildIsDelayed() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("qdisc add dev va parent 1:1 handle 10: netem delay 20ms");
        rig.core.core().devQueueXmit(rig.frame(100, 6)); // TC_PRIO_INTERACTIVE: band 0, class 1:1
        rig.core.core().devQueueXmit(rig.frame(100, 0)); // best effort: band 1, class 1:2
        rig.core.run();
        assertEquals(1, rig.received, "class 1:2 went at once");
        rig.advanceMillis(21);
        assertEquals(2, rig.received, "class 1:1 after netem's 20 ms");
    }

    @Test
    void deletingAChildPutsTheDefaultFifoBack() {
        rig.tc("qdisc add dev va root handle 1: prio");
        rig.tc("qdisc add dev va parent 1:2 netem delay 1s");
        rig.send(100);
        rig.core.run();
        assertEquals(0, rig.received);
        rig.tc("qdisc del dev va parent 1:2");
        assertEquals(List.of("qdisc prio 1: root refcnt 2 bands 3 priomap 1 2 2 2 1 2 0 0 1 1 1 1 1 1 1 1"), rig.tc("qdisc show dev va"));
        assertEquals(1, rig.txDropped(), "what the child held is counted");
        rig.send(100);
        rig.core.run();
        assertEquals(1, rig.received);
    }

    @Test
    void refusesParentsThatDoNotExistInTcsWords() {
        fails("qdisc add dev va parent 1:1 netem", "Error: Failed to find specified qdisc.");
        rig.tc("qdisc add dev va root handle 1: prio");
        fails("qdisc add dev va parent 2:1 netem", "Error: Failed to find specified qdisc.");
        fails("qdisc add dev va parent 1:4 netem", "Error: Specified class not found.");
        fails("qdisc del dev va parent 1:1", "Error: Cannot delete qdisc with handle of zero.");
        rig.tc("qdisc replace dev va root handle 1: netem");
        fails("qdisc add dev va parent 1:1 pfifo", "Error: Parent qdisc is not classful.");
    }
}
