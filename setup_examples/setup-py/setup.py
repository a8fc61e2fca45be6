from setuptools import setup

setup(
    name="hosthooks-example-setup-py",
    version="1.0.0",
    description="The example plugin, declared in setup.py.",
    py_modules=["example_setup_py"],
    python_requires=">=3.10",
    install_requires=["hosthooks"],
    entry_points={"hosthooks": ["example-setup-py = example_setup_py"]},
)
