package org.modnet.sched;

import java.util.List;

import org.modnet.api.sched.Qdisc;
import org.modnet.api.sched.QdiscEnv;
import org.modnet.api.sched.QdiscOps;
import org.osgi.service.component.annotations.Component;

/** The {@code pfifo} family ({@code sch_fifo.c}): a FIFO limited in packets. */
@Component(service = QdiscOps.class, property = QdiscOps.KIND + "=pfifo")
public final class PfifoOps implements QdiscOps {
    @Override
    public Qdisc create(QdiscEnv env, List<String> args) {
        return new SchFifo(env, false, args);
    }
}
