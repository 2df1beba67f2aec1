package org.modnet.shell.snmp;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import org.modnet.api.inet.SnmpMib;
import org.modnet.api.net.NetNamespace;
import org.modnet.api.shell.ProcFile;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/** {@code /proc/net/netstat}: TcpExt and IpExt, a line of names and a line of values each ({@link ProcNetSnmp#netstat}). */
@Component(service = ProcFile.class, immediate = true, property = ProcFile.PATH + "=/proc/net/netstat")
public final class ProcNetNetstat implements ProcFile {
    private final List<SnmpMib> mibs = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addMib(SnmpMib mib) {
        mibs.add(mib);
    }

    void removeMib(SnmpMib mib) {
        mibs.remove(mib);
    }

    @Override
    public List<String> read(NetNamespace ns) {
        return ProcNetSnmp.netstat(ProcNetSnmp.all(mibs, ns));
    }
}
