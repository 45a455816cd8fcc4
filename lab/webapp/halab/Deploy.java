// The lab's webapp: a deployment that takes a configurable time, as a real
// application's does (Spring context, caches, migrations ...). Registered as a
// listener in WEB-INF/web.xml: tomcat calls contextInitialized while it deploys
// the webapp, before its connector starts accepting, so while this sleeps the
// port is bound (bindOnInit) and a request connects but gets no answer.
//
// The time comes from ${catalina.base}/deploy-seconds (a number, e.g. 20 or 0.5),
// read at each start: `lab.sh up --deploy N` / Lab.up({ deploySeconds }) write it,
// a scenario may change it between starts. Missing or 0: no wait.
package halab;

import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public class Deploy implements ServletContextListener {
  /** Upper bound of the wait, whatever the file says (the lab's loops are bounded). */
  static final double MAX_SECONDS = 600;

  static double deploySeconds() {
    Path f = Path.of(System.getProperty("catalina.base", "."), "deploy-seconds");
    try {
      double s = Double.parseDouble(new String(Files.readAllBytes(f), StandardCharsets.UTF_8).trim());
      return Double.isFinite(s) && s > 0 ? Math.min(s, MAX_SECONDS) : 0;
    } catch (Exception e) {
      return 0;
    }
  }

  @Override
  public void contextInitialized(ServletContextEvent event) {
    double s = deploySeconds();
    if (s <= 0) return;
    event.getServletContext().log("halab: deploying, " + s + " s (deploy-seconds)");
    long until = System.nanoTime() + (long) (s * 1e9);
    try {
      for (long left; (left = until - System.nanoTime()) > 0; ) Thread.sleep(Math.max(1, left / 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    event.getServletContext().log("halab: deployed after " + s + " s");
  }

  @Override
  public void contextDestroyed(ServletContextEvent event) {}
}
