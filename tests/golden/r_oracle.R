# Reference values from R packages shipped by Debian (r-cran-proc, r-cran-metafor,
# r-cran-survival), computed at test time by tests/golden/test_r_oracle.c. The data sets come
# from the packages themselves: pROC's aSAH (Turck et al., 2010; 113 patients after aneurysmal
# subarachnoid haemorrhage) and metafor's dat.bcg (Colditz et al., JAMA 1994); the survival
# data are synthetic (set.seed below) with continuous times, so that no time ties. Writes CSV
# files and ref.txt ("key value" lines, 17 significant digits) into the directory given.
args <- commandArgs(trailingOnly = TRUE)
out <- args[1]
suppressMessages({
  library(pROC)
  library(metafor)
  library(survival)
})
ref <- list()
put <- function(k, v) ref[[k]] <<- v

data(aSAH)
write.csv(data.frame(outcome = as.integer(aSAH$outcome == "Poor"), s100b = aSAH$s100b,
                     ndka = aSAH$ndka),
          file.path(out, "asah.csv"), row.names = FALSE)
r1 <- roc(aSAH$outcome, aSAH$s100b, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
r2 <- roc(aSAH$outcome, aSAH$ndka, levels = c("Good", "Poor"), direction = "<", quiet = TRUE)
ci <- ci.auc(r1, method = "delong")
put("auc_s100b", as.numeric(auc(r1)))
put("var_s100b", var(r1, method = "delong"))
put("ci_lo_s100b", ci[1])
put("ci_hi_s100b", ci[3])
put("auc_ndka", as.numeric(auc(r2)))
t <- roc.test(r1, r2, method = "delong", paired = TRUE)
put("paired_z", unname(t$statistic))
put("paired_p", t$p.value)
put("cov_s100b_ndka", cov(r1, r2, method = "delong"))

dat <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = dat.bcg)
write.csv(data.frame(yi = sprintf("%.17g", dat$yi), vi = sprintf("%.17g", dat$vi)),
          file.path(out, "bcg.csv"), row.names = FALSE, quote = FALSE)
dl <- rma(yi, vi, data = dat, method = "DL")
put("dl_mu", as.numeric(dl$beta)); put("dl_se", dl$se); put("dl_tau2", dl$tau2)
put("dl_i2", dl$I2); put("dl_q", dl$QE); put("dl_ci_lo", dl$ci.lb); put("dl_ci_hi", dl$ci.ub)
reml <- rma(yi, vi, data = dat, method = "REML")
put("reml_mu", as.numeric(reml$beta)); put("reml_se", reml$se); put("reml_tau2", reml$tau2)
put("reml_i2", reml$I2)
hk <- rma(yi, vi, data = dat, method = "REML", test = "knha")
put("hk_se", hk$se); put("hk_ci_lo", hk$ci.lb); put("hk_ci_hi", hk$ci.ub)
fe <- rma(yi, vi, data = dat, method = "FE")
put("fe_mu", as.numeric(fe$beta)); put("fe_se", fe$se)

set.seed(20261125)
n <- 400
x <- rnorm(n)
time <- rexp(n, rate = exp(0.7 * x))
cens <- rexp(n, rate = 0.3)
ev <- as.integer(time <= cens)
tt <- pmin(time, cens)
risk <- 0.7 * x + rnorm(n, sd = 0.5)
site <- rep(1:3, length.out = n)
write.csv(data.frame(time = sprintf("%.17g", tt), event = ev, risk = sprintf("%.17g", risk),
                     site = site),
          file.path(out, "surv.csv"), row.names = FALSE, quote = FALSE)
cc <- concordance(Surv(tt, ev) ~ risk, reverse = TRUE)
put("cindex", cc$concordance)
# the federation's pooled survival C: pairs within a site only (strata)
cs <- concordance(Surv(tt, ev) ~ risk + strata(site), reverse = TRUE)
put("cindex_strata", cs$concordance)

lines <- vapply(names(ref), function(k) sprintf("%s %.17g", k, ref[[k]]), "")
writeLines(lines, file.path(out, "ref.txt"))
