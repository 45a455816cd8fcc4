// The lab webapp's run-time faults, switched by lab/host/ctl.sh (`tomcat fault ...`)
// through files in the host's fail/ directory (<hostdir> = ${catalina.base}/..):
//
//   fail/tomcat-500         holds the pid of the JVM it applies to: that JVM answers
//                           every request (the application and /health) with HTTP 500
//                           while it lives. A restarted tomcat is another JVM, so a
//                           restart heals it (like a poisoned cache or a dead pool).
//   fail/tomcat-health-flap while present, /health alternates 500 / 200 per request;
//                           the application itself keeps serving.
//
// Checked on every request (a stat, and a small read while the 500 file exists).
package halab;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

public class Faults implements Filter {
  static final Path FAIL = Path.of(System.getProperty("catalina.base", "."), "..", "fail").normalize();
  static final Path HTTP_500 = FAIL.resolve("tomcat-500");
  static final Path FLAP = FAIL.resolve("tomcat-health-flap");
  static final String PID = String.valueOf(ProcessHandle.current().pid());
  static final String HOST = System.getProperty("lab.host", "?");
  private final AtomicLong healthRequests = new AtomicLong();

  static boolean http500() {
    if (!Files.exists(HTTP_500)) return false;
    try {
      String s = new String(Files.readAllBytes(HTTP_500), StandardCharsets.UTF_8);
      for (String w : s.trim().split("\\s+")) if (w.equals(PID)) return true;
    } catch (IOException e) {
      // removed while reading: no fault
    }
    return false;
  }

  static void fail(ServletResponse res, String why) throws IOException {
    HttpServletResponse r = (HttpServletResponse) res;
    r.setStatus(500);
    r.setContentType("text/plain");
    r.getWriter().print("host=" + HOST + " error: " + why + "\n");
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain) throws IOException, ServletException {
    if (http500()) {
      fail(res, "HTTP 500 fault (fail/tomcat-500)");
      return;
    }
    String path = ((HttpServletRequest) req).getServletPath();
    if ("/health".equals(path) && Files.exists(FLAP) && healthRequests.incrementAndGet() % 2 == 1) {
      fail(res, "health flapping (fail/tomcat-health-flap)");
      return;
    }
    chain.doFilter(req, res);
  }
}
