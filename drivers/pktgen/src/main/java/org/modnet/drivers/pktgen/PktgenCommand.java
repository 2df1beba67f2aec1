package org.modnet.drivers.pktgen;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.felix.service.command.CommandSession;
import org.modnet.api.module.ModuleUsage;
import org.modnet.api.net.Eth;
import org.modnet.api.net.MacAddress;
import org.modnet.api.net.NetCore;
import org.modnet.api.net.NetDevice;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.CommandException;
import org.modnet.api.shell.Commands;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/**
 * {@code pktgen DEV [count N] [pkt_size BYTES] [dst_mac MAC] [src_mac MAC] [proto ETHERTYPE]
 * [path rx|tx]}: the keywords of Linux's {@code /proc/net/pktgen} interface on one line. Runs in the
 * current namespace and prints pktgen's result line.
 */
@Component(service = { PktgenCommand.class, ModuleUsage.class }, immediate = true, property = { "osgi.command.scope=" + Commands.SCOPE,
        "osgi.command.function=pktgen" })
public final class PktgenCommand implements ModuleUsage {
    static final String USAGE = "Usage: pktgen DEV [count N] [pkt_size BYTES] [dst_mac MAC] [src_mac MAC] "
            + "[proto ETHERTYPE] [path rx|tx]";

    private final NetCore core;
    /** Devices a run is sending on now: pktgen's hold on them, its users for rmmod. */
    private final AtomicInteger running = new AtomicInteger();

    @Activate
    public PktgenCommand(@Reference NetCore core) {
        this.core = core;
    }

    public void pktgen(CommandSession session, String... args) {
        args = Commands.words(session, args);
        session = session != null ? session : org.apache.felix.service.command.Job.Utils.current().session();
        if (args.length == 0 || args.length % 2 == 0) {
            throw new CommandException(USAGE, 2);
        }
        NetNamespace ns = Commands.namespace(core, session.get(Commands.NETNS), "pktgen");
        NetDevice dev = ns.device(args[0]);
        if (dev == null) {
            throw new CommandException("pktgen: Cannot find device \"" + args[0] + "\"", 1);
        }
        int count = 1000;
        int size = 60;
        MacAddress dst = dev.address();
        MacAddress src = MacAddress.parse("02:00:00:00:00:01");
        int proto = Eth.ETH_P_LOCAL_EXP1;
        PacketGenerator.Path path = PacketGenerator.Path.RX;
        for (int i = 1; i < args.length; i += 2) {
            String key = args[i];
            String value = args[i + 1];
            try {
                switch (key) {
                    case "count" -> count = Integer.parseInt(value);
                    case "pkt_size" -> size = Integer.parseInt(value);
                    case "dst_mac" -> dst = MacAddress.parse(value);
                    case "src_mac" -> src = MacAddress.parse(value);
                    case "proto" -> proto = value.startsWith("0x") ? Integer.parseInt(value.substring(2), 16) : Integer.parseInt(value);
                    case "path" -> path = PacketGenerator.Path.valueOf(value.toUpperCase(Locale.ROOT));
                    default -> throw new CommandException("pktgen: unknown keyword \"" + key + "\"\n" + USAGE, 2);
                }
            } catch (IllegalArgumentException e) {
                throw new CommandException("pktgen: bad value \"" + value + "\" for " + key, 2);
            }
        }
        if (proto < 0 || proto > 0xffff) {
            throw new CommandException("pktgen: bad value for proto: an ethertype is 16 bits", 2);
        }
        PacketGenerator.Config config;
        try {
            config = new PacketGenerator.Config(count, size, dst, src, proto, path);
        } catch (IllegalArgumentException e) {
            throw new CommandException("pktgen: " + e.getMessage(), 2);
        }
        if (size > dev.mtu() + Eth.ETH_HLEN) {
            throw new CommandException("pktgen: pkt_size " + size + " is larger than " + dev.name() + "'s MTU allows ("
                    + (dev.mtu() + Eth.ETH_HLEN) + ")", 1);
        }
        if (!dev.isUp()) {
            throw new CommandException("pktgen: " + dev.name() + " is down", 1);
        }
        running.incrementAndGet();
        try {
            System.out.println(PacketGenerator.run(core, dev, config).text());
        } finally {
            running.decrementAndGet();
        }
    }

    @Override
    public Map<String, Integer> users() {
        return Map.of(DEVICES, running.get());
    }
}
