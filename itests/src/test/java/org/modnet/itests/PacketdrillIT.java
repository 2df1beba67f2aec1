package org.modnet.itests;

import static org.hamcrest.CoreMatchers.containsString;
import static org.hamcrest.MatcherAssert.assertThat;

import java.nio.file.Path;

import javax.inject.Inject;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.modnet.api.feature.FeatureService;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerMethod;
import org.osgi.framework.BundleContext;

/** The packetdrill command in a real Felix with the full feature: a script against the live stack, on wall time. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerMethod.class)
public class PacketdrillIT {

    @Inject
    private BundleContext context;

    @Inject
    private FeatureService features;

    @Inject
    private CommandProcessor processor;

    @Configuration
    public Option[] config() throws Exception {
        return ModnetRuntime.options();
    }

    @Before
    public void installFull() throws Exception {
        features.install("full");
        ModnetRuntime.service(context, org.modnet.api.net.NetCore.class, null);
        org.osgi.util.tracker.ServiceTracker<Object, Object> command = new org.osgi.util.tracker.ServiceTracker<>(context,
                context.createFilter("(osgi.command.function=packetdrill)"), null);
        command.open();
        if (command.waitForService(10_000) == null) {
            throw new AssertionError("no packetdrill command");
        }
    }

    private static String script(String name) {
        return ModnetRuntime.root().resolve(Path.of("bundles/packetdrill/src/test/resources", name)).toString();
    }

    @Test
    public void aScriptPassesAgainstTheRunningStackInAScratchNamespace() throws Exception {
        String f = script("scripts/handshake-passive-options.pkt");
        // wall time on a shared machine: a wide tolerance; the point is the wiring
        String out = ModnetRuntime.run(processor, "packetdrill --tolerance_usecs=200000 " + f);
        assertThat(out, containsString(f + " pass"));
        assertThat(ModnetRuntime.run(processor, "ip netns list"), org.hamcrest.CoreMatchers.not(containsString("packetdrill-")));
    }

    @Test
    public void aFailingScriptPrintsPacketdrillsErrorLineAndFails() throws Exception {
        String f = script("selftests/wrong-ack.pkt");
        String out = ModnetRuntime.runCapturing(processor, null, "packetdrill --tolerance_usecs=200000 " + f);
        assertThat(out, containsString(f + ":7: error handling packet: live packet field tcp_ack_seq: expected: 2 (0x2) vs actual: 1 (0x1)"));
        assertThat(out, containsString(f + " failed"));
    }
}
