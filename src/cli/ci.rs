//! Who is asking, read from the CI system's own variables, so the audit log
//! says which pipeline asked.

/// `actor`, `pipeline_url` and `commit` for the audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pipeline {
    pub system: Option<&'static str>,
    pub actor: Option<String>,
    pub pipeline_url: Option<String>,
    pub commit: Option<String>,
}

/// Read the caller from environment variables (`get` looks one up).
pub fn detect(get: impl Fn(&str) -> Option<String>) -> Pipeline {
    let var = |k: &str| get(k).filter(|v| !v.is_empty());
    let caller = |system, actor, pipeline_url, commit| Pipeline { system: Some(system), actor, pipeline_url, commit };
    if var("GITHUB_ACTIONS").is_some() {
        let url = match (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID")) {
            (Some(server), Some(repo), Some(run)) => Some(format!("{server}/{repo}/actions/runs/{run}")),
            _ => None,
        };
        return caller("GitHub Actions", var("GITHUB_ACTOR"), url, var("GITHUB_SHA"));
    }
    if var("GITLAB_CI").is_some() {
        return caller(
            "GitLab CI",
            var("GITLAB_USER_LOGIN"),
            var("CI_JOB_URL").or_else(|| var("CI_PIPELINE_URL")),
            var("CI_COMMIT_SHA"),
        );
    }
    if var("JENKINS_URL").is_some() || var("JENKINS_HOME").is_some() {
        return caller(
            "Jenkins",
            var("BUILD_USER_ID").or_else(|| var("CHANGE_AUTHOR")),
            var("BUILD_URL"),
            var("GIT_COMMIT"),
        );
    }
    if var("CIRCLECI").is_some() {
        return caller("CircleCI", var("CIRCLE_USERNAME"), var("CIRCLE_BUILD_URL"), var("CIRCLE_SHA1"));
    }
    if var("BUILDKITE").is_some() {
        return caller(
            "Buildkite",
            var("BUILDKITE_BUILD_CREATOR").or_else(|| var("BUILDKITE_BUILD_AUTHOR")),
            var("BUILDKITE_BUILD_URL"),
            var("BUILDKITE_COMMIT"),
        );
    }
    if var("TF_BUILD").is_some() {
        let url = match (var("SYSTEM_COLLECTIONURI"), var("SYSTEM_TEAMPROJECT"), var("BUILD_BUILDID")) {
            (Some(base), Some(project), Some(id)) => {
                Some(format!("{}/{project}/_build/results?buildId={id}", base.trim_end_matches('/')))
            }
            _ => None,
        };
        return caller("Azure Pipelines", var("BUILD_REQUESTEDFOR"), url, var("BUILD_SOURCEVERSION"));
    }
    if var("BITBUCKET_BUILD_NUMBER").is_some() {
        let url = match (var("BITBUCKET_GIT_HTTP_ORIGIN"), var("BITBUCKET_BUILD_NUMBER")) {
            (Some(origin), Some(n)) => Some(format!("{origin}/pipelines/results/{n}")),
            _ => None,
        };
        return caller("Bitbucket Pipelines", var("BITBUCKET_STEP_TRIGGERER_UUID"), url, var("BITBUCKET_COMMIT"));
    }
    Pipeline { system: None, actor: var("USER"), pipeline_url: None, commit: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(vars: &[(&str, &str)]) -> Pipeline {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        detect(|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn each_ci_system_is_read_from_its_own_variables() {
        // (variables, system, actor, pipeline_url, commit)
        type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a str, &'a str);
        let cases: &[Case] = &[
            (
                &[
                    ("GITHUB_ACTIONS", "true"),
                    ("GITHUB_ACTOR", "octocat"),
                    ("GITHUB_SERVER_URL", "https://github.com"),
                    ("GITHUB_REPOSITORY", "acme/shop"),
                    ("GITHUB_RUN_ID", "42"),
                    ("GITHUB_SHA", "abc"),
                ],
                "GitHub Actions",
                "octocat",
                "https://github.com/acme/shop/actions/runs/42",
                "abc",
            ),
            (
                &[
                    ("GITLAB_CI", "true"),
                    ("GITLAB_USER_LOGIN", "jane"),
                    ("CI_JOB_URL", "https://gitlab.example/j/7"),
                    ("CI_COMMIT_SHA", "def"),
                ],
                "GitLab CI",
                "jane",
                "https://gitlab.example/j/7",
                "def",
            ),
            (
                &[
                    ("JENKINS_URL", "https://ci/"),
                    ("BUILD_USER_ID", "ops"),
                    ("BUILD_URL", "https://ci/job/shop/9/"),
                    ("GIT_COMMIT", "123"),
                ],
                "Jenkins",
                "ops",
                "https://ci/job/shop/9/",
                "123",
            ),
            (
                &[
                    ("CIRCLECI", "true"),
                    ("CIRCLE_USERNAME", "sam"),
                    ("CIRCLE_BUILD_URL", "https://circleci.com/gh/a/b/5"),
                    ("CIRCLE_SHA1", "456"),
                ],
                "CircleCI",
                "sam",
                "https://circleci.com/gh/a/b/5",
                "456",
            ),
            (
                &[
                    ("BUILDKITE", "true"),
                    ("BUILDKITE_BUILD_CREATOR", "kim"),
                    ("BUILDKITE_BUILD_URL", "https://buildkite.com/a/b/builds/3"),
                    ("BUILDKITE_COMMIT", "789"),
                ],
                "Buildkite",
                "kim",
                "https://buildkite.com/a/b/builds/3",
                "789",
            ),
            (
                &[
                    ("TF_BUILD", "True"),
                    ("BUILD_REQUESTEDFOR", "Alex"),
                    ("SYSTEM_COLLECTIONURI", "https://dev.azure.com/acme/"),
                    ("SYSTEM_TEAMPROJECT", "shop"),
                    ("BUILD_BUILDID", "11"),
                    ("BUILD_SOURCEVERSION", "aaa"),
                ],
                "Azure Pipelines",
                "Alex",
                "https://dev.azure.com/acme/shop/_build/results?buildId=11",
                "aaa",
            ),
            (
                &[
                    ("BITBUCKET_BUILD_NUMBER", "12"),
                    ("BITBUCKET_GIT_HTTP_ORIGIN", "http://bitbucket.org/acme/shop"),
                    ("BITBUCKET_STEP_TRIGGERER_UUID", "{u-1}"),
                    ("BITBUCKET_COMMIT", "bbb"),
                ],
                "Bitbucket Pipelines",
                "{u-1}",
                "http://bitbucket.org/acme/shop/pipelines/results/12",
                "bbb",
            ),
        ];
        for (vars, system, actor, url, commit) in cases {
            let c = from(vars);
            assert_eq!(c.system, Some(*system));
            assert_eq!(c.actor.as_deref(), Some(*actor), "{system}");
            assert_eq!(c.pipeline_url.as_deref(), Some(*url), "{system}");
            assert_eq!(c.commit.as_deref(), Some(*commit), "{system}");
        }
    }

    #[test]
    fn outside_ci_the_user_is_the_actor() {
        let c = from(&[("USER", "me")]);
        assert_eq!((c.system, c.actor.as_deref(), c.pipeline_url), (None, Some("me"), None));
    }
}
